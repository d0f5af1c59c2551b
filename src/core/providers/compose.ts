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
  for (const k of cases) {
    if (byPrompt.has(k.prompt)) continue;
    const key = canonicalJson(k.prompt.provider);
    let provider = byOptions.get(key);
    if (!provider) {
      // Inside any recording: cassettes, like the cache, only ever hold the canary's sentinel.
      provider = new CanaryProvider(createProvider(k.prompt.provider, { env: deps.env }));
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
    provider = createProvider({ ...config.judge.provider, id: config.judge.provider.id ?? 'openai' }, { env: deps.env });
    if (mode === 'record') provider = new RecordingProvider(provider, cassettes, deps.now);
  }
  return new Judge(provider, config.judge, cached ? new ResponseStore(path.join(config.cacheDir, 'judge')) : undefined, prices);
}

