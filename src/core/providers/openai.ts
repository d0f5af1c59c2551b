import type OpenAI from 'openai';
import type { ProviderOptions } from '../schema';
import { limiterFor, type AdaptiveLimiter } from './adaptive';
import { KeepAliveTransport, postTarget, type PostTarget } from './http-fetch';
import { vendor } from '../vendor';
import { DEFAULT_RETRY, parseRetryAfter, withRetry, type RetryPolicy } from './retry';
import { ProviderError, type CallOptions, type Provider, type ProviderRequest, type ProviderResponse, type ToolCall } from './types';

export interface OpenAIProviderSettings {
  apiKey: string;
  baseURL?: string;
  timeoutMs: number;
  retry: RetryPolicy;
  stream: boolean;
  /** A stream that sends nothing for this long is abandoned (default 30 s, at most timeoutMs). */
  idleMs?: number;
  /** Adaptive concurrency and rate limits for this endpoint (none: unlimited). */
  limiter?: AdaptiveLimiter;
}

/** Chat completions through the official SDK, against OpenAI or any compatible server. */
export class OpenAIProvider implements Provider {
  readonly id: string;
  private client?: OpenAI;

  constructor(private readonly settings: OpenAIProviderSettings) {
    this.id = `openai:${settings.baseURL ?? 'api.openai.com'}`;
  }

  private async sdk(): Promise<OpenAI> {
    if (!this.client) {
      // Loaded on first call: runs served from the cache or cassettes never pay for the SDK.
      const OpenAIClient = vendor.openai();
      this.client = new OpenAIClient({
        apiKey: this.settings.apiKey,
        baseURL: this.settings.baseURL,
        maxRetries: 0, // retries are ours: bounded, jittered, Retry-After aware, cancellable
        timeout: this.settings.timeoutMs,
        fetch: sharedTransport().fetch,
      });
    }
    return this.client;
  }

  async complete(request: ProviderRequest, options: CallOptions): Promise<ProviderResponse> {
    const client = await this.sdk();
    return withRetry(() => this.limited(() => this.once(client, request, options.signal), options.signal, (r) => r.usage?.totalTokens), { policy: this.settings.retry, signal: options.signal });
  }

  /** One attempt inside the endpoint's adaptive window: a 429 shrinks it, a success grows it. */
  private async limited<T>(attempt: () => Promise<T>, signal: AbortSignal | undefined, tokens: (r: T) => number | undefined): Promise<T> {
    const limiter = this.settings.limiter;
    if (!limiter) return attempt();
    const ticket = await limiter.acquire(signal);
    try {
      const r = await attempt();
      limiter.release(ticket, 'ok', { tokens: tokens(r) });
      return r;
    } catch (err) {
      const e = err as ProviderError;
      limiter.release(ticket, e.kind === 'rate_limit' ? 'rate_limited' : 'other', { retryAfterMs: e.options?.retryAfterMs });
      throw err;
    }
  }

  async embed(input: string[], options: { model: string; signal?: AbortSignal }): Promise<number[][]> {
    const client = await this.sdk();
    return withRetry(
      () => this.limited(async () => {
        try {
          const res = await client.embeddings.create({ model: options.model, input }, { signal: options.signal });
          return [...res.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
        } catch (err) {
          throw this.redacted(classify(err, options.signal));
        }
      }, options.signal, () => undefined),
      { policy: this.settings.retry, signal: options.signal },
    );
  }

  private async once(client: OpenAI, request: ProviderRequest, outer?: AbortSignal): Promise<ProviderResponse> {
    if (!this.settings.stream) {
      try {
        return await this.whole(client, request, outer);
      } catch (err) {
        throw this.redacted(classify(err, outer));
      }
    }
    // The SDK never removes the abort listener it adds to the signal it is given; a per-call
    // child signal keeps a long run from piling up listeners (and the requests they hold) on ours.
    const child = new AbortController();
    const onAbort = () => child.abort();
    if (outer?.aborted) child.abort();
    outer?.addEventListener('abort', onAbort, { once: true });
    // The SDK's timeout ends when the headers arrive; nothing in it bounds the body. A stream must
    // be whole within timeoutMs, and may not go quiet for longer than its idle limit in between.
    const timeoutMs = this.settings.timeoutMs;
    const idleMs = Math.min(timeoutMs, this.settings.idleMs ?? 30_000);
    let timedOut: string | undefined;
    const expire = (why: string) => {
      timedOut ??= why;
      child.abort();
    };
    // Until the first chunk only the whole deadline applies: a model may think long before it speaks.
    const whole = setTimeout(() => expire(`request timed out: no complete answer within ${timeoutMs / 1000} s`), timeoutMs);
    let idle: NodeJS.Timeout | undefined;
    const alive = () => {
      clearTimeout(idle);
      idle = setTimeout(() => expire(`request timed out: the stream stalled, no data for ${idleMs / 1000} s`), idleMs);
    };
    try {
      return await this.streamed(client, request, child.signal, alive);
    } catch (err) {
      if (timedOut && !outer?.aborted) throw new ProviderError('timeout', timedOut);
      throw this.redacted(classify(err, child.signal));
    } finally {
      clearTimeout(whole);
      clearTimeout(idle);
      outer?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * A chat completion answered in one piece. The SDK builds the call (URL, authentication,
   * organisation and project, its own headers) once per client through its public `buildRequest`,
   * and makes the errors (`APIError.generate`, which reads the server's error body); each call then
   * only sends the JSON body over the keep-alive transport and parses the answer. Going through
   * `chat.completions.create` for every call rebuilt and revalidated the same headers each time and
   * cost more CPU than the HTTP exchange itself: 0.3-0.45 s of a 1.5 s run of 1,000 cases. Streamed
   * calls, where the SDK's event-stream parsing earns its place, still go through it.
   */
  private async whole(client: OpenAI, request: ProviderRequest, signal: AbortSignal | undefined): Promise<ProviderResponse> {
    const target = await this.prepared(client);
    // The request's JSON with `"stream":false` last, as `{ ...request, stream: false }` would give, without the copy.
    const payload = `${JSON.stringify(request).slice(0, -1)},"stream":false}`;
    const res = await sharedTransport().post(target, payload, signal, this.settings.timeoutMs);
    const body = parseJson(res.text);
    if (res.status < 200 || res.status >= 300) {
      throw vendor.openai().APIError.generate(res.status, body as object | undefined, body === undefined ? res.text : undefined, res.headers as Headers);
    }
    const completion = body as OpenAI.ChatCompletion | undefined;
    if (!completion || typeof completion !== 'object') throw new ProviderError('server', `the response is not a JSON object: ${res.text.slice(0, 200)}`, { status: res.status });
    const choice = completion.choices?.[0];
    if (!choice) throw new ProviderError('server', 'the response has no choices');
    const toolCalls: ToolCall[] = (choice.message?.tool_calls ?? [])
      .filter((c) => c.type === 'function')
      .map((c) => {
        const fn = c as { id: string; function: { name: string; arguments: string } };
        return { id: fn.id, name: fn.function.name, arguments: fn.function.arguments };
      });
    return finish(choice.message?.content ?? '', toolCalls, choice.finish_reason ?? undefined, completion.usage, completion.model, completion.system_fingerprint ?? undefined);
  }

  private preparing?: Promise<PostTarget>;

  /** The SDK's URL and headers for a chat completion, built once per client. */
  private prepared(client: OpenAI): Promise<PostTarget> {
    // The body is sent per call; an absent one still gets the JSON content type, and spares the
    // SDK its `body instanceof FormData` check, which would load undici for nothing.
    this.preparing ??= client.buildRequest({ method: 'post', path: '/chat/completions', body: undefined }).then(
      ({ req, url }) => {
        // A Headers from the SDK (the built CLI's SDK has a light one of its own, not undici's).
        const headers: Record<string, string> = {};
        (req.headers as Headers).forEach((value, name) => (headers[name] = value));
        return postTarget(url, headers);
      },
      (err: unknown) => {
        this.preparing = undefined; // a failure is not remembered: the next call asks the SDK again
        throw err;
      },
    );
    return this.preparing;
  }

  /** Some servers echo the key in an error ("Incorrect API key provided: sk-…"); it never reaches a file or log. */
  private redacted(err: ProviderError): ProviderError {
    const key = this.settings.apiKey;
    if (key.length >= 8 && err.message.includes(key)) err.message = err.message.split(key).join('[redacted key]');
    return err;
  }

  private async streamed(client: OpenAI, request: ProviderRequest, signal: AbortSignal, alive: () => void): Promise<ProviderResponse> {
    const stream = await client.chat.completions.create(
      { ...request, stream: true, stream_options: { include_usage: true } } as OpenAI.ChatCompletionCreateParamsStreaming,
      // Our deadline (in `once`) ends the attempt; the SDK's own is only a backstop.
      { signal, timeout: this.settings.timeoutMs + 5_000 },
    );
    let content = '';
    let finishReason: string | undefined;
    let usage: OpenAI.CompletionUsage | undefined;
    let model: string | undefined;
    let fingerprint: string | undefined;
    const calls: { id?: string; name: string; arguments: string }[] = [];
    for await (const chunk of stream) {
      alive();
      model ??= chunk.model;
      fingerprint ??= chunk.system_fingerprint ?? undefined;
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      if (choice.delta.content) content += choice.delta.content;
      for (const d of choice.delta.tool_calls ?? []) {
        const c = (calls[d.index] ??= { name: '', arguments: '' });
        if (d.id) c.id = d.id;
        if (d.function?.name) c.name += d.function.name;
        if (d.function?.arguments) c.arguments += d.function.arguments;
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
    if (!finishReason) throw new ProviderError('network', 'the stream ended before the model finished');
    return finish(content, calls.filter(Boolean), finishReason, usage, model, fingerprint);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function finish(content: string, toolCalls: ToolCall[], finishReason: string | undefined, usage: OpenAI.CompletionUsage | undefined | null, model?: string, fingerprint?: string): ProviderResponse {
  return {
    fingerprint,
    output: content || (toolCalls.length ? JSON.stringify(toolCalls.map((c) => ({ name: c.name, arguments: c.arguments }))) : ''),
    toolCalls,
    finishReason,
    usage: usage ? { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, totalTokens: usage.total_tokens } : undefined,
    model,
  };
}

let transport: KeepAliveTransport | undefined;
/** One keep-alive transport for every client in the process (connections are reused across prompts). */
const sharedTransport = () => (transport ??= new KeepAliveTransport());

/** Maps SDK and transport errors onto PromptGate's kinds, keeping Retry-After. */
export function classify(err: unknown, signal?: AbortSignal): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = err as { name?: string; status?: number; message?: string; headers?: { get(n: string): string | null } };
  const message = e.message ?? String(err);
  if (signal?.aborted || e.name === 'APIUserAbortError' || e.name === 'AbortError') return new ProviderError('aborted', 'cancelled');
  if (e.name === 'APIConnectionTimeoutError') return new ProviderError('timeout', 'request timed out');
  const status = e.status;
  if (typeof status === 'number') {
    const retryAfterMs = parseRetryAfter(e.headers);
    const detail = `HTTP ${status}: ${message.replace(/^\d{3}\s*/, '')}`;
    // Out of credit is a 429 too, but no wait ends it: the run stops instead of retrying for hours.
    const code = (err as { code?: unknown }).code;
    if (status === 429 && (code === 'insufficient_quota' || /insufficient_quota|exceeded your current quota/i.test(message))) return new ProviderError('quota', detail, { status });
    if (status === 429) return new ProviderError('rate_limit', detail, { status, retryAfterMs });
    if (status === 408 || status === 409 || status >= 500) return new ProviderError('server', detail, { status, retryAfterMs });
    if (status === 401 || status === 403) return new ProviderError('auth', detail, { status });
    return new ProviderError('bad_request', detail, { status });
  }
  return new ProviderError('network', `connection failed: ${message}`);
}

export function openAIFromOptions(options: ProviderOptions, env: Record<string, string | undefined>): OpenAIProvider {
  const baseURL = options.baseURL ?? env.OPENAI_BASE_URL ?? undefined;
  const keyVar = options.apiKeyEnv ?? 'OPENAI_API_KEY';
  const key = env[keyVar] || undefined; // an empty variable is no key
  if (!key && !baseURL) {
    throw new ProviderError('config', `${keyVar} is not set: set it to run against OpenAI, set a baseURL for a local server, or run offline with --replay`);
  }
  return new OpenAIProvider({
    // Local OpenAI-compatible servers (Ollama, vLLM, LM Studio) accept any key.
    apiKey: key ?? 'not-needed',
    baseURL,
    timeoutMs: options.timeoutMs ?? 60_000,
    retry: { ...DEFAULT_RETRY, maxRetries: options.maxRetries ?? DEFAULT_RETRY.maxRetries },
    stream: options.stream ?? false,
    limiter: limiterFor(`${baseURL ?? 'https://api.openai.com/v1'} ${keyVar}`, { rpm: options.rpm, tpm: options.tpm }),
  });
}
