import * as path from 'node:path';
import { canonicalJson } from '../canonical';
import type { ResolvedConfig } from '../config';
import { Judge } from '../judge';
import type { CaseSpec, PromptSpec } from '../model';
import { ResponseStore } from '../store';
import type { PriceTable } from './pricing';
import { createProvider } from './registry';
import { RecordingProvider, ReplayProvider } from './replay';
import type { Provider } from './types';
import { CanaryProvider } from '../redteam/canary';
import { knownSecrets, redacting } from './secrets';

/** Where answers come from: the live provider, recorded cassettes, or live while recording them. */
export type RunMode = 'live' | 'replay' | 'record';

export interface ComposeDeps {
  env: Record<string, string | undefined>;
  now(): number;
}

/** One provider per distinct provider configuration, created before the run so that missing keys stop it early. */
export function makeProviders(cases: readonly CaseSpec[], mode: RunMode, cassettesDir: string, deps: ComposeDeps): (p: PromptSpec) => Provider {
  const cassettes = new ResponseStore(cassettesDir);
  if (mode === 'replay') {
    const replay = new ReplayProvider(cassettes);
    return () => replay;
  }
  const byOptions = new Map<string, Provider>();
  const byPrompt = new Map<PromptSpec, Provider>();
  const secrets = knownSecrets(deps.env, cases.flatMap((k) => (k.prompt.provider.apiKeyEnv ? [k.prompt.provider.apiKeyEnv] : [])));
  for (const k of cases) {
    if (byPrompt.has(k.prompt)) continue;
    const key = canonicalJson(k.prompt.provider);
    let provider = byOptions.get(key);
    if (!provider) {
      // Inside any recording: cassettes, like the cache, only ever hold the canary's sentinel.
      // Known keys are redacted right at the live provider, so that no recording or store ever holds one.
      provider = new CanaryProvider(redacting(createProvider(k.prompt.provider, { env: deps.env }), secrets));
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
    const options = { ...config.judge.provider, id: config.judge.provider.id ?? 'openai' };
    provider = redacting(createProvider(options, { env: deps.env }), knownSecrets(deps.env, options.apiKeyEnv ? [options.apiKeyEnv] : []));
    if (mode === 'record') provider = new RecordingProvider(provider, cassettes, deps.now);
  }
  return new Judge(provider, config.judge, cached ? new ResponseStore(path.join(config.cacheDir, 'judge')) : undefined, prices);
}

