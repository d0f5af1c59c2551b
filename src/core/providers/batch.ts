import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { requestKey } from '../store';
import { writeFileAtomic } from '../fsutil';
import { ProviderError, type CallOptions, type Provider, type ProviderRequest, type ProviderResponse } from './types';

/** A batch as the Batch API reports it. */
export interface BatchInfo {
  id: string;
  status: 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled' | string;
  outputFileId?: string;
  errorFileId?: string;
  counts?: { total: number; completed: number; failed: number };
  /** Why a batch failed as a whole (its validation errors). */
  errors?: string;
}

/** OpenAI's files and batches endpoints (Azure OpenAI has the same), as a provider offers them. */
export interface BatchApi {
  upload(jsonl: string): Promise<string>;
  create(inputFileId: string): Promise<BatchInfo>;
  retrieve(id: string): Promise<BatchInfo>;
  content(fileId: string): Promise<string>;
  /** A chat completion body of the output file as the provider's answer. */
  answer(body: unknown): ProviderResponse;
  /** The URL a request line names (`/v1/chat/completions`). */
  readonly endpoint: string;
}

export interface BatchCapable extends Provider {
  batchApi(): BatchApi;
}

export const isBatchCapable = (p: Provider): p is BatchCapable => typeof (p as Partial<BatchCapable>).batchApi === 'function';

/** The Batch API's price against a call's: half (OpenAI and Azure OpenAI). */
export const BATCH_PRICE_FACTOR = 0.5;

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

/** What `.promptgate/batches/batches.json` keeps: every batch submitted and which requests it holds, so a killed run resumes them. */
interface Ledger {
  batches: { id: string; inputFileId: string; createdAt: string; keys: string[]; status?: string }[];
}

export interface BatchOptions {
  /** `.promptgate/batches`: the ledger and each finished batch's answers. */
  dir: string;
  /** The first wait between polls; each next one is 1.5 times longer, up to a minute. */
  pollMs: number;
  /** How many first calls the run will make: the batch is sent when they have all arrived. */
  expected: number;
  /** Sent when a batch's status changes. */
  onStatus(info: BatchInfo): void;
  now(): number;
  /** Waits `ms` (tests may shorten it; the run's signal cancels it). */
  sleep?(ms: number, signal?: AbortSignal): Promise<void>;
}

type Waiter = { resolve(r: ProviderResponse): void; reject(e: Error): void };

/**
 * `--batch`: a run's first calls go to the provider's Batch API in one batch (half the price at
 * OpenAI), then are answered from its output file as if they had been called one by one. Calls after
 * an agent's first step (the loop needs each answer before the next call) and calls of a run that
 * outnumber `expected` go to the provider directly. Every batch is written to a ledger before it is
 * polled, so a run killed while waiting picks up the same batch next time instead of paying twice.
 * A request the batch failed or left undone when it expired is a provider error of that sample.
 */
export class BatchingProvider implements Provider {
  readonly id: string;
  private queue = new Map<string, { request: ProviderRequest; waiters: Waiter[] }>();
  private arrived = 0;
  private idle?: NodeJS.Timeout;
  private ledger?: Promise<Ledger>;

  constructor(
    private readonly inner: BatchCapable,
    private readonly options: BatchOptions,
  ) {
    this.id = inner.id;
  }

  async complete(request: ProviderRequest, options: CallOptions): Promise<ProviderResponse> {
    // An agent's later steps carry the model's tool calls: they cannot wait for a batch.
    if (request.messages.some((m) => m.role === 'tool' || m.tool_calls) || this.arrived >= this.options.expected) return this.inner.complete(request, options);
    this.arrived++;
    const key = requestKey(request, options.sample);
    const answer = new Promise<ProviderResponse>((resolve, reject) => {
      const q = this.queue.get(key) ?? { request, waiters: [] };
      q.waiters.push({ resolve, reject });
      this.queue.set(key, q);
    });
    if (this.arrived >= this.options.expected) this.flush();
    else {
      // Calls that never come (a case that failed before calling) must not hold the batch forever.
      clearTimeout(this.idle);
      this.idle = setTimeout(() => this.flush(), 2000);
      this.idle.unref?.();
    }
    return answer;
  }

  private flush(): void {
    clearTimeout(this.idle);
    const pending = this.queue;
    this.queue = new Map();
    if (!pending.size) return;
    void this.send(pending).catch((err: Error) => {
      for (const q of pending.values()) for (const w of q.waiters) w.reject(err instanceof ProviderError ? err : new ProviderError('server', `the batch failed: ${err.message}`));
    });
  }

  private async send(pending: Map<string, { request: ProviderRequest; waiters: Waiter[] }>): Promise<void> {
    const api = this.inner.batchApi();
    const ledger = await this.readLedger();
    // Requests a batch already holds (a run killed while it waited) wait for that batch; the rest make a new one.
    const byBatch = new Map<string, string[]>();
    const fresh: string[] = [];
    for (const key of pending.keys()) {
      const b = ledger.batches.find((x) => x.keys.includes(key) && x.status !== 'failed' && x.status !== 'cancelled');
      if (b) byBatch.set(b.id, [...(byBatch.get(b.id) ?? []), key]);
      else fresh.push(key);
    }
    if (fresh.length) {
      const lines = fresh.map((key) => JSON.stringify({ custom_id: key, method: 'POST', url: api.endpoint, body: pending.get(key)!.request }));
      const inputFileId = await api.upload(`${lines.join('\n')}\n`);
      const info = await api.create(inputFileId);
      ledger.batches.push({ id: info.id, inputFileId, createdAt: new Date(this.options.now()).toISOString(), keys: fresh, status: info.status });
      await this.writeLedger(ledger);
      this.options.onStatus(info);
      byBatch.set(info.id, fresh);
    }
    await Promise.all(
      [...byBatch].map(async ([id, keys]) => {
        const answers = await this.wait(api, id, ledger);
        for (const key of keys) {
          const a = answers.get(key);
          for (const w of pending.get(key)!.waiters) {
            if (a && 'response' in a) w.resolve({ ...a.response, priceFactor: BATCH_PRICE_FACTOR });
            else w.reject(new ProviderError(a?.kind ?? 'server', a?.message ?? `batch ${id} has no answer for this request`));
          }
        }
      }),
    );
  }

  /** Polls a batch with backoff until it ends, then reads its output and error files (kept, so a later run reads them again). */
  private async wait(api: BatchApi, id: string, ledger: Ledger): Promise<Map<string, { response: ProviderResponse } | { kind: ProviderError['kind']; message: string }>> {
    const saved = path.join(this.options.dir, `${id}.jsonl`);
    let text = await fs.readFile(saved, 'utf8').catch(() => undefined);
    let info: BatchInfo | undefined;
    if (text === undefined) {
      let delay = this.options.pollMs;
      let last = '';
      for (;;) {
        info = await api.retrieve(id);
        const seen = `${info.status} ${info.counts?.completed ?? 0}/${info.counts?.total ?? 0}`;
        if (seen !== last) this.options.onStatus(info);
        last = seen;
        if (TERMINAL.has(info.status)) break;
        await (this.options.sleep ?? sleep)(delay);
        delay = Math.min(60_000, delay * 1.5);
      }
      const entry = ledger.batches.find((b) => b.id === id);
      if (entry) entry.status = info.status;
      if (info.status === 'failed' && !info.outputFileId) throw new ProviderError('server', `batch ${id} failed${info.errors ? `: ${info.errors}` : ''}`);
      const parts = await Promise.all([info.outputFileId ? api.content(info.outputFileId) : '', info.errorFileId ? api.content(info.errorFileId) : '']);
      text = parts.filter(Boolean).join('\n');
      await fs.mkdir(this.options.dir, { recursive: true });
      await writeFileAtomic(saved, text);
      await this.writeLedger(ledger);
    }
    const out = new Map<string, { response: ProviderResponse } | { kind: ProviderError['kind']; message: string }>();
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let x: { custom_id?: string; response?: { status_code?: number; body?: unknown } | null; error?: { code?: string; message?: string } | null };
      try {
        x = JSON.parse(line);
      } catch {
        continue;
      }
      if (!x.custom_id) continue;
      const status = x.response?.status_code ?? 0;
      if (x.response && status >= 200 && status < 300) out.set(x.custom_id, { response: api.answer(x.response.body) });
      else {
        const body = x.response?.body as { error?: { message?: string } } | undefined;
        const message = x.error?.message ?? body?.error?.message ?? `status ${status}`;
        out.set(x.custom_id, { kind: x.error?.code === 'batch_expired' ? 'timeout' : status === 429 ? 'rate_limit' : status >= 500 ? 'server' : 'bad_request', message: `batch ${id}: ${x.error?.code === 'batch_expired' ? 'the batch expired before this request was answered' : message}` });
      }
    }
    return out;
  }

  private readLedger(): Promise<Ledger> {
    const file = path.join(this.options.dir, 'batches.json');
    this.ledger ??= fs.readFile(file, 'utf8').then(
      (t) => {
        let x: Partial<Ledger>;
        try {
          x = JSON.parse(t) as Partial<Ledger>;
        } catch (err) {
          throw new ProviderError('config', `${file} does not parse (${(err as Error).message}): it lists the batches a run sent; restore it, or delete it to send new batches`);
        }
        if (!Array.isArray(x.batches) || !x.batches.every((b) => typeof b?.id === 'string' && Array.isArray(b.keys))) throw new ProviderError('config', `${file}: 'batches' must be a list of {id, keys}: restore it, or delete it to send new batches`);
        return x as Ledger;
      },
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return { batches: [] };
        throw new ProviderError('config', `cannot read ${file}: ${err.message}`);
      },
    );
    return this.ledger;
  }

  private async writeLedger(ledger: Ledger): Promise<void> {
    await fs.mkdir(this.options.dir, { recursive: true });
    await writeFileAtomic(path.join(this.options.dir, 'batches.json'), `${JSON.stringify(ledger, null, 2)}\n`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
