import { hashOf } from './canonical';
import { parseModelRef } from './providers/ids';
import { ProviderError, type Provider } from './providers/types';
import type { ProviderOptions } from './schema';
import { estimateCost, findPrice, type PriceTable } from './providers/pricing';
import { requestKey, type ResponseStore } from './store';
import type { CaseResult, ResponseSource } from './types/results';
import type { CaseSpec, PromptSpec } from './types/cases';
import type { CostEstimate } from './types/report';

/** GitHub Models ids carry a publisher (`openai/gpt-4o-mini`); OpenAI's own API wants the bare name. */
export function requestModelFor(model: string, provider: { baseURL?: string }): string {
  return !provider.baseURL && model.startsWith('openai/') ? model.slice('openai/'.length) : model;
}

/**
 * The same cases against another model (`--model`). Case ids stay, so they are compared with the
 * approved baseline; the prompt's version id changes with the model, so that baseline is flagged.
 */
export function withModel(cases: readonly CaseSpec[], model: string): CaseSpec[] {
  const ref = parseModelRef(model);
  if ('unsupported' in ref) throw new ProviderError('config', ref.unsupported);
  const prompts = new Map<PromptSpec, PromptSpec>();
  return cases.map((c) => {
    let p = prompts.get(c.prompt);
    if (!p) {
      // `anthropic:messages:…` and the like switch the provider too; its endpoint and key are the new provider's own.
      const provider = ref.provider && ref.provider !== c.prompt.provider.id ? { ...withoutEndpoint(c.prompt.provider), id: ref.provider } : c.prompt.provider;
      p = { ...c.prompt, model: ref.model, provider, versionId: hashOf({ base: c.prompt.versionId, model }).slice(0, 12) };
      prompts.set(c.prompt, p);
    }
    const swapped: CaseSpec = { ...c, prompt: p, request: { ...c.request, model: requestModelFor(ref.model, p.provider) } };
    // A case skipped only because its file names no model runs with this one.
    if (swapped.skip?.needsModel) delete swapped.skip;
    return swapped;
  });
}

function withoutEndpoint(options: ProviderOptions): ProviderOptions {
  const { baseURL: _baseURL, apiKeyEnv: _apiKeyEnv, apiVersion: _apiVersion, ...rest } = options;
  return rest;
}

/**
 * Cases × models for a suite that lists `models`: each copy has its own id (`…@model`), its own
 * baseline entry and verdict, so a model upgrade is tested side by side before it is pinned.
 */
export function acrossModels(cases: readonly CaseSpec[], models: readonly string[]): CaseSpec[] {
  return models.flatMap((m) => withModel(cases, m).map((c) => ({ ...c, id: `${c.id}@${m}`, name: `${c.name} [${m}]` })));
}

/**
 * What the planned first samples would cost: calls the cache or records will answer are free;
 * prompt tokens are estimated at four characters each, completions at `max_tokens` (else 256).
 * Auto sampling may draw more, and judges are not counted, so this is a floor.
 */
export async function estimateRunCost(
  cases: readonly CaseSpec[],
  plan: (spec: CaseSpec) => { initial: number },
  prices: PriceTable,
  cache: ResponseStore | undefined,
  providerFor: (p: PromptSpec) => Provider,
): Promise<CostEstimate> {
  let usd = 0;
  let calls = 0;
  const unpriced = new Set<string>();
  for (const spec of cases) {
    if (spec.skip) continue;
    const provider = providerFor(spec.prompt);
    if (provider.recorded) continue;
    const promptTokens = Math.ceil(spec.request.messages.reduce((n, m) => n + m.content.length + 16, 0) / 4);
    const completionTokens = spec.request.max_tokens ?? 256;
    for (let sample = 0; sample < plan(spec).initial; sample++) {
      const hit = cache ? await cache.get(requestKey(spec.request, sample)) : undefined;
      if (hit && hit.provider === provider.id) continue;
      calls++;
      if (!findPrice(prices, spec.request.model)) unpriced.add(spec.request.model);
      usd += estimateCost(prices, spec.request.model, { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens }) ?? 0;
    }
  }
  return { usd, calls, unpriced: [...unpriced] };
}

/** Cost per case (live calls only; cache and record hits cost nothing), for reports. */
export function caseCost(results: readonly CaseResult[]): { usd: number; liveCalls: number; meanLatencyMs?: number; sources: Record<ResponseSource, number> } {
  const live = results.filter((r) => r.source === 'live');
  const sources: Record<ResponseSource, number> = { live: 0, cache: 0, replay: 0 };
  for (const r of results) if (r.source) sources[r.source]++;
  return {
    usd: live.reduce((s, r) => s + (r.cost ?? 0), 0),
    liveCalls: live.length,
    meanLatencyMs: live.length ? live.reduce((s, r) => s + (r.latencyMs ?? 0), 0) / live.length : undefined,
    sources,
  };
}
