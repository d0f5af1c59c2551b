import * as path from 'node:path';
import { canonicalJson } from '../canonical';
import type { ResolvedConfig } from '../config';
import { Judge } from '../judge';
import { ResponseStore } from '../store';
import type { PriceTable } from '../providers/pricing';
import { createProvider } from '../providers/registry';
import { RecordingProvider, ReplayProvider } from '../providers/replay';
import { ProviderError, type Provider } from '../providers/types';
import { BatchingProvider, isBatchCapable, type BatchOptions } from '../providers/batch';
import { CanaryProvider } from '../redteam/canary';
import { knownSecrets, redacting } from '../providers/secrets';
import type { CaseSpec, PromptSpec } from '../types/cases';
import type { RunMode } from '../types/report';

export interface ComposeDeps {
  env: Record<string, string | undefined>;
  now(): number;
  /** A base URL that beats every file's for OpenAI-compatible providers (the editor setting). */
  baseURL?: string;
}

/** A provider configuration with the run's base URL applied (OpenAI-compatible providers only). */
function withBaseURL<T extends { id?: string; baseURL?: string }>(options: T, baseURL: string | undefined): T {
  return baseURL && (options.id ?? 'openai') === 'openai' ? { ...options, baseURL } : options;
}

/** `--batch`: each provider's first calls go through its Batch API (see providers/batch.ts). */
export interface BatchComposition extends Omit<BatchOptions, 'expected'> {
  /** First calls a case will make (its initial samples). */
  samples(spec: CaseSpec): number;
}

/** One provider per distinct provider configuration, created before the run so that missing keys stop it early. */
export function makeProviders(cases: readonly CaseSpec[], mode: RunMode, cassettesDir: string, deps: ComposeDeps, batch?: BatchComposition): (p: PromptSpec) => Provider {
  const cassettes = new ResponseStore(cassettesDir);
  if (mode === 'replay') {
    const replay = new ReplayProvider(cassettes);
    return () => replay;
  }
  const byOptions = new Map<string, Provider>();
  const byPrompt = new Map<PromptSpec, Provider>();
  const secrets = knownSecrets(deps.env, cases.flatMap((k) => (k.prompt.provider.apiKeyEnv ? [k.prompt.provider.apiKeyEnv] : [])));
  for (const k of cases) {
    if (k.skip || byPrompt.has(k.prompt)) continue;
    const options = withBaseURL(k.prompt.provider, deps.baseURL);
    const key = canonicalJson(options);
    let provider = byOptions.get(key);
    if (!provider) {
      // Inside any recording: cassettes, like the cache, only ever hold the canary's sentinel.
      // Known keys are redacted right at the live provider, so that no recording or store ever holds one.
      let raw = createProvider(options, { env: deps.env });
      if (batch) {
        if (!isBatchCapable(raw)) throw new ProviderError('config', `--batch: the ${options.id ?? 'openai'} provider has no Batch API here (OpenAI and Azure OpenAI have one)`);
        const expected = cases.filter((c) => !c.skip && canonicalJson(withBaseURL(c.prompt.provider, deps.baseURL)) === key).reduce((n, c) => n + batch.samples(c), 0);
        raw = new BatchingProvider(raw, { ...batch, expected });
      }
      provider = new CanaryProvider(redacting(raw, secrets));
      if (mode === 'record') provider = new RecordingProvider(provider, cassettes, deps.now);
      byOptions.set(key, provider);
    }
    byPrompt.set(k.prompt, provider);
  }
  return (p) => byPrompt.get(p)!;
}

/** The judge for model-graded assertions: the project's judge model through its provider (or the cassettes). */
export function makeJudge(config: ResolvedConfig, mode: RunMode, deps: ComposeDeps, cached: boolean, prices: PriceTable): Judge {
  const cassettes = new ResponseStore(config.cassettesDir);
  let provider: Provider;
  if (mode === 'replay') provider = new ReplayProvider(cassettes);
  else {
    const options = withBaseURL({ ...config.judge.provider, id: config.judge.provider.id ?? 'openai' }, deps.baseURL);
    provider = redacting(createProvider(options, { env: deps.env }), knownSecrets(deps.env, options.apiKeyEnv ? [options.apiKeyEnv] : []));
    if (mode === 'record') provider = new RecordingProvider(provider, cassettes, deps.now);
  }
  return new Judge(provider, config.judge, cached ? new ResponseStore(path.join(config.cacheDir, 'judge')) : undefined, prices);
}

