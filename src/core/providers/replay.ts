import { requestKey, type ResponseStore } from '../store';
import { ProviderError, type CallOptions, type Provider, type ProviderRequest, type ProviderResponse } from './types';

/** Answers only from recorded cassettes; a request that was never recorded is an error, not a pass. */
export class ReplayProvider implements Provider {
  readonly id = 'replay';
  constructor(private readonly cassettes: ResponseStore) {}

  async complete(request: ProviderRequest, options: CallOptions): Promise<ProviderResponse> {
    const key = requestKey(request, options.sample);
    const entry = await this.cassettes.get(key);
    if (!entry) {
      throw new ProviderError(
        'replay_miss',
        `no recording for this request (model ${request.model}, sample ${options.sample}, key ${key.slice(0, 12)}) in ${this.cassettes.dir}; the prompt or case changed since it was recorded: record again with --record`,
      );
    }
    return { ...entry.response, latencyMs: entry.latencyMs };
  }
}

/** Calls the live provider and writes every answer to the cassettes. */
export class RecordingProvider implements Provider {
  readonly id: string;
  constructor(
    private readonly inner: Provider,
    private readonly cassettes: ResponseStore,
    private readonly now: () => number,
  ) {
    this.id = inner.id;
  }

  async complete(request: ProviderRequest, options: CallOptions): Promise<ProviderResponse> {
    const started = this.now();
    const response = await this.inner.complete(request, options);
    const latencyMs = this.now() - started;
    await this.cassettes.put({ key: requestKey(request, options.sample), provider: this.inner.id, sample: options.sample, request, response, latencyMs });
    return response;
  }
}
