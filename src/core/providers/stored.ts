import { requestKey } from '../store';
import { ProviderError, type CallOptions, type Provider, type ProviderRequest, type ProviderResponse } from './types';
import type { CaseResult } from '../types/results';

/**
 * Answers with the outputs a recorded run already has (for `--rejudge`): judges run again,
 * the model under test is not called.
 */
export class StoredOutputsProvider implements Provider {
  readonly id = 'stored';
  readonly recorded = true;
  private readonly byKey = new Map<string, CaseResult>();

  constructor(entries: Iterable<{ request: ProviderRequest; result: CaseResult }>) {
    for (const { request, result } of entries) this.byKey.set(requestKey(request, result.sample), result);
  }

  /** The whole recorded sample (an agent case's steps included), to judge again without running the loop. */
  storedRun(request: ProviderRequest, sample: number): CaseResult | undefined {
    return this.byKey.get(requestKey(request, sample));
  }

  async complete(request: ProviderRequest, options: CallOptions): Promise<ProviderResponse> {
    const r = this.byKey.get(requestKey(request, options.sample));
    if (!r || r.output === undefined) throw new ProviderError('replay_miss', `no stored output for sample ${options.sample} of this request in the latest run: run promptgate test first`);
    return { output: r.output, toolCalls: r.toolCalls ?? [], finishReason: r.finishReason, usage: r.usage, latencyMs: r.latencyMs };
  }
}
