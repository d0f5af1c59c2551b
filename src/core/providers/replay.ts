import { hashOf } from '../canonical';
import { requestKey, type ResponseStore } from '../store';
import { ProviderError, type CallOptions, type Provider, type ProviderRequest, type ProviderResponse } from './types';

/** Answers only from recorded cassettes; a request that was never recorded is an error, not a pass. */
export class ReplayProvider implements Provider {
  readonly id = 'replay';
  readonly recorded = true;
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

  async embed(input: string[], options: { model: string }): Promise<number[][]> {
    const key = hashOf({ embeddings: options.model, input });
    const entry = await this.cassettes.getVectors(key);
    if (!entry) throw new ProviderError('replay_miss', `no recording of embeddings (model ${options.model}, key ${key.slice(0, 12)}) in ${this.cassettes.dir}: record again with --record`);
    return entry.vectors;
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
    // A replay is not retried: how often the recording had to retry is not part of the answer.
    const { retries: _retries, ...recorded } = response;
    await this.cassettes.put({ key: requestKey(request, options.sample), provider: this.inner.id, sample: options.sample, request, response: recorded, latencyMs });
    return response;
  }

  async embed(input: string[], options: { model: string; signal?: AbortSignal }): Promise<number[][]> {
    if (!this.inner.embed) throw new ProviderError('config', `provider '${this.inner.id}' has no embeddings endpoint`);
    const vectors = await this.inner.embed(input, options);
    await this.cassettes.putVectors({ key: hashOf({ embeddings: options.model, input }), provider: this.inner.id, vectors });
    return vectors;
  }
}
