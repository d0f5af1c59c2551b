import type OpenAI from 'openai';
import type { ProviderOptions } from '../schema';
import { limited, limiterFor, type AdaptiveLimiter } from './adaptive';
import { KeepAliveTransport, postTarget, type PostTarget } from './http-fetch';
import { vendor } from '../vendor';
import { withDeadlines } from './deadline';
import { DEFAULT_RETRY, parseRetryAfter, withRetry, type RetryPolicy } from './retry';
import type { BatchApi, BatchInfo } from './batch';
import { ProviderError, toolCallsOutput, type CallOptions, type Provider, type ProviderRequest, type ProviderResponse, type ToolCall } from './types';

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
  /** Azure OpenAI: `baseURL` is the resource endpoint, the model names the deployment; with `token`, Entra ID instead of a key. */
  azure?: { apiVersion: string; token?: string };
}

/** Chat completions through the official SDK, against OpenAI or any compatible server. */
export class OpenAIProvider implements Provider {
  readonly id: string;
  private client?: OpenAI;

  constructor(private readonly settings: OpenAIProviderSettings) {
    this.id = `openai:${settings.baseURL ?? 'api.openai.com'}`;
  }

  private async sdk(): Promise<OpenAI> {
    // Loaded on first call: runs served from the cache or cassettes never pay for the SDK.
    this.client ??= this.makeClient(sharedTransport().fetch);
    return this.client;
  }

  private makeClient(fetch: ReturnType<typeof sharedTransport>['fetch'] | undefined): OpenAI {
    const common = {
      maxRetries: 0, // retries are ours: bounded, jittered, Retry-After aware, cancellable
      timeout: this.settings.timeoutMs,
      ...(fetch ? { fetch } : {}),
    };
    const azure = this.settings.azure;
    if (azure) {
      const AzureClient = vendor.azureOpenAI();
      const token = azure.token;
      // baseURL given (not endpoint): the SDK would otherwise read OPENAI_BASE_URL from the process environment.
      return new AzureClient({ ...common, baseURL: `${this.settings.baseURL!.replace(/\/+$/, '')}/openai`, apiVersion: azure.apiVersion, ...(token ? { azureADTokenProvider: async () => token } : { apiKey: this.settings.apiKey }) });
    }
    const OpenAIClient = vendor.openai();
    return new OpenAIClient({ ...common, apiKey: this.settings.apiKey, baseURL: this.settings.baseURL });
  }

  /**
   * The Batch API (files and batches endpoints) for `--batch`, through the SDK with its own fetch:
   * a file upload is a multipart body, which the keep-alive transport of chat calls does not send.
   */
  batchApi(): BatchApi {
    const client = () => (this.batchClient ??= this.makeClient(undefined));
    const info = (b: OpenAI.Batches.Batch): BatchInfo => ({
      id: b.id,
      status: b.status,
      ...(b.output_file_id ? { outputFileId: b.output_file_id } : {}),
      ...(b.error_file_id ? { errorFileId: b.error_file_id } : {}),
      ...(b.request_counts ? { counts: { total: b.request_counts.total, completed: b.request_counts.completed, failed: b.request_counts.failed } } : {}),
      ...(b.errors?.data?.length ? { errors: b.errors.data.map((e) => `${e.line !== undefined && e.line !== null ? `line ${e.line}: ` : ''}${e.message ?? e.code}`).join('; ') } : {}),
    });
    const call = async <T>(f: () => Promise<T>): Promise<T> => {
      try {
        return await f();
      } catch (err) {
        throw this.redacted(classify(err));
      }
    };
    // Azure OpenAI's batch lines and batches name the path without the version prefix.
    const endpoint = this.settings.azure ? '/chat/completions' : '/v1/chat/completions';
    return {
      endpoint,
      upload: (jsonl) => call(async () => (await client().files.create({ file: new File([jsonl], 'promptgate-batch.jsonl', { type: 'application/jsonl' }), purpose: 'batch' })).id),
      create: (inputFileId) => call(async () => info(await client().batches.create({ input_file_id: inputFileId, endpoint: endpoint as '/v1/chat/completions', completion_window: '24h' }))),
      retrieve: (id) => call(async () => info(await client().batches.retrieve(id))),
      content: (fileId) => call(async () => (await client().files.content(fileId)).text()),
      answer: (body) => fromCompletion(body as OpenAI.ChatCompletion | undefined, 200, JSON.stringify(body ?? null)),
    };
  }

  private batchClient?: OpenAI;

  async complete(request: ProviderRequest, options: CallOptions): Promise<ProviderResponse> {
    const client = await this.sdk();
    // Retries are counted, so an agent's steps show how often a call had to be tried again.
    let retries = 0;
    const r = await withRetry(() => limited(this.settings.limiter, () => this.once(client, request, options.signal), options.signal, (x) => x.usage?.totalTokens), { policy: this.settings.retry, signal: options.signal, onRetry: () => retries++ });
    return retries ? { ...r, retries } : r;
  }

  async embed(input: string[], options: { model: string; signal?: AbortSignal }): Promise<number[][]> {
    const client = await this.sdk();
    return withRetry(
      () => limited(this.settings.limiter, async () => {
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
    return withDeadlines(outer, this.settings, (signal, alive) => this.streamed(client, request, signal, alive), (err, signal) => this.redacted(classify(err, signal)));
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
    // Azure's URL names the deployment and its Entra tokens are fetched per call: its calls go through the SDK.
    if (this.settings.azure) return this.viaSdk(client, request, signal);
    const target = await this.prepared(client);
    // The request's JSON with `"stream":false` last, as `{ ...request, stream: false }` would give, without the copy.
    const payload = `${JSON.stringify(request).slice(0, -1)},"stream":false}`;
    const res = await sharedTransport().post(target, payload, signal, this.settings.timeoutMs);
    const body = parseJson(res.text);
    if (res.status < 200 || res.status >= 300) {
      throw vendor.openai().APIError.generate(res.status, body as object | undefined, body === undefined ? res.text : undefined, res.headers as Headers);
    }
    return fromCompletion(body as OpenAI.ChatCompletion | undefined, res.status, res.text);
  }

  private async viaSdk(client: OpenAI, request: ProviderRequest, signal: AbortSignal | undefined): Promise<ProviderResponse> {
    const completion = await client.chat.completions.create({ ...request, stream: false } as OpenAI.ChatCompletionCreateParamsNonStreaming, { signal });
    return fromCompletion(completion, 200, '');
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
    const calls: ToolCall[] = [];
    let legacy: ToolCall | undefined;
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
      const fc = (choice.delta as { function_call?: { name?: string; arguments?: string } }).function_call;
      if (fc) {
        legacy ??= { name: '', arguments: '', legacy: true };
        legacy.name += fc.name ?? '';
        legacy.arguments += fc.arguments ?? '';
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
    if (!finishReason) throw new ProviderError('network', 'the stream ended before the model finished');
    return finish(content, legacy ? [legacy] : calls.filter(Boolean), finishReason, usage, model, fingerprint);
  }
}

/** A chat completion's answer, or the reason it is not one. */
function fromCompletion(completion: OpenAI.ChatCompletion | undefined, status: number, text: string): ProviderResponse {
  if (!completion || typeof completion !== 'object') throw new ProviderError('server', `the response is not a JSON object: ${text.slice(0, 200)}`, { status });
  const choice = completion.choices?.[0];
  if (!choice) throw new ProviderError('server', 'the response has no choices');
  const toolCalls: ToolCall[] = (choice.message?.tool_calls ?? [])
    .filter((c) => c.type === 'function')
    .map((c) => {
      const fn = c as { id: string; function: { name: string; arguments: string } };
      return { id: fn.id, name: fn.function.name, arguments: fn.function.arguments };
    });
  // The legacy functions API answers with one function_call.
  const fc = (choice.message as { function_call?: { name: string; arguments: string } } | undefined)?.function_call;
  if (fc && !toolCalls.length) toolCalls.push({ name: fc.name, arguments: fc.arguments ?? '', legacy: true });
  return finish(choice.message?.content ?? '', toolCalls, choice.finish_reason ?? undefined, completion.usage, completion.model, completion.system_fingerprint ?? undefined);
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
    output: content || (toolCalls.length ? toolCallsOutput(toolCalls) : ''),
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

/** What differs between the OpenAI-compatible APIs PromptGate calls: where they are and which key they take. */
interface Preset {
  name: string;
  /** Environment variables holding the key, first found wins. */
  keyVars: string[];
  baseURL(env: Record<string, string | undefined>): string | undefined;
  /** A local server: any key does. */
  keyless?: boolean;
}

/** Provider ids that speak the chat-completions API at a known place (Gemini and Ollama serve it too). */
export const OPENAI_PRESETS: Record<'openai' | 'gemini' | 'ollama', Preset> = {
  openai: { name: 'OpenAI', keyVars: ['OPENAI_API_KEY'], baseURL: (env) => env.OPENAI_BASE_URL || undefined },
  gemini: { name: 'Gemini', keyVars: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'], baseURL: (env) => env.GEMINI_BASE_URL || 'https://generativelanguage.googleapis.com/v1beta/openai' },
  ollama: { name: 'Ollama', keyVars: ['OLLAMA_API_KEY'], baseURL: (env) => (env.OLLAMA_BASE_URL ? `${env.OLLAMA_BASE_URL.replace(/\/+$/, '')}/v1` : 'http://localhost:11434/v1'), keyless: true },
};

export function openAIFromOptions(options: ProviderOptions, env: Record<string, string | undefined>, preset: Preset = OPENAI_PRESETS.openai): OpenAIProvider {
  const baseURL = options.baseURL ?? preset.baseURL(env);
  const keyVars = options.apiKeyEnv ? [options.apiKeyEnv] : preset.keyVars;
  const keyVar = keyVars.find((v) => env[v]) ?? keyVars[0];
  const key = env[keyVar] || undefined; // an empty variable is no key
  // A custom base URL is a local server, which accepts any key (Ollama, vLLM, LM Studio).
  if (!key && !preset.keyless && (preset !== OPENAI_PRESETS.openai || !baseURL)) {
    throw new ProviderError('config', `${keyVars.join(' or ')} is not set: set it to run against ${preset.name}${preset === OPENAI_PRESETS.openai ? ', set a baseURL for a local server' : ''}, or run offline with --replay`);
  }
  return new OpenAIProvider({
    apiKey: key ?? 'not-needed',
    baseURL,
    timeoutMs: options.timeoutMs ?? 60_000,
    retry: { ...DEFAULT_RETRY, maxRetries: options.maxRetries ?? DEFAULT_RETRY.maxRetries },
    stream: options.stream ?? false,
    limiter: limiterFor(`${baseURL ?? 'https://api.openai.com/v1'} ${keyVar}`, { rpm: options.rpm, tpm: options.tpm }),
  });
}

/** The API version sent to Azure OpenAI when neither the file nor OPENAI_API_VERSION names one. */
export const AZURE_API_VERSION = '2024-10-21';

/**
 * Azure OpenAI through the openai SDK's Azure client: the endpoint from the file or
 * AZURE_OPENAI_ENDPOINT, the model as the deployment, a key (AZURE_OPENAI_API_KEY) or an Entra ID
 * token (AZURE_OPENAI_AD_TOKEN).
 */
export function azureFromOptions(options: ProviderOptions, env: Record<string, string | undefined>): OpenAIProvider {
  const endpoint = options.baseURL ?? env.AZURE_OPENAI_ENDPOINT ?? (env.AZURE_OPENAI_API_HOST ? `https://${env.AZURE_OPENAI_API_HOST}` : undefined);
  if (!endpoint) throw new ProviderError('config', 'the Azure OpenAI endpoint is not set: set AZURE_OPENAI_ENDPOINT (https://NAME.openai.azure.com) or the provider\'s apiHost/baseURL');
  const keyVars = options.apiKeyEnv ? [options.apiKeyEnv] : ['AZURE_OPENAI_API_KEY', 'AZURE_API_KEY'];
  const keyVar = keyVars.find((v) => env[v]);
  const token = env.AZURE_OPENAI_AD_TOKEN || undefined;
  if (!keyVar && !token) throw new ProviderError('config', `${keyVars.join(' or ')} (or an Entra ID token in AZURE_OPENAI_AD_TOKEN) is not set: set one to run against Azure OpenAI, or run offline with --replay`);
  return new OpenAIProvider({
    apiKey: keyVar ? env[keyVar]! : token!,
    baseURL: endpoint,
    azure: { apiVersion: options.apiVersion ?? env.OPENAI_API_VERSION ?? AZURE_API_VERSION, token: keyVar ? undefined : token },
    timeoutMs: options.timeoutMs ?? 60_000,
    retry: { ...DEFAULT_RETRY, maxRetries: options.maxRetries ?? DEFAULT_RETRY.maxRetries },
    stream: options.stream ?? false,
    limiter: limiterFor(`${endpoint} ${keyVar ?? 'AZURE_OPENAI_AD_TOKEN'}`, { rpm: options.rpm, tpm: options.tpm }),
  });
}
