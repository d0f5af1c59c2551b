/** A message of a request; agent cases add the model's tool calls and the tools' answers. */
export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content: string;
  /** An assistant message that called tools. */
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  /** A tool message: the call it answers. */
  tool_call_id?: string;
}

/** The request PromptGate sends, in the OpenAI chat-completions body shape; hashed canonically. */
export interface ProviderRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  max_tokens?: number;
  top_p?: number;
  seed?: number;
  stop?: string | string[];
  presence_penalty?: number;
  frequency_penalty?: number;
  tools?: { type: 'function'; function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean } }[];
  tool_choice?: 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };
  response_format?: { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; json_schema: Record<string, unknown> };
  /** Other body parameters, sent as written (`modelParameters.extra`, a promptfoo provider's config: reasoning_effort, max_completion_tokens…). */
  [param: string]: unknown;
}

export interface ToolCall {
  id?: string;
  name: string;
  /** The raw JSON text the model produced; it may be invalid JSON. */
  arguments: string;
  /** A call through the legacy functions API (`function_call`, for a request's `functions`). */
  legacy?: true;
}

/** Where an answer came from: the provider, the cache, or a cassette. */
export type ResponseSource = 'live' | 'cache' | 'replay';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ProviderResponse {
  /** The text content; when the model only called tools, the JSON of those calls (toolCallsOutput). */
  output: string;
  toolCalls: ToolCall[];
  finishReason?: string;
  usage?: Usage;
  /** The model that answered, as the API reports it (a dated snapshot behind an alias, often). */
  model?: string;
  /** The API's `system_fingerprint`: the backend configuration that answered. */
  fingerprint?: string;
  /** Set by replay: the latency measured when the answer was recorded. */
  latencyMs?: number;
  /** How many times the call was tried again (a 429, a 5xx, a dropped connection) before this answer. */
  retries?: number;
  /** The answer's price against a call's (0.5: answered through the Batch API). */
  priceFactor?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Which repeated sample this call is; part of cache and cassette keys. */
  sample: number;
}

export interface Provider {
  /** Identifies the provider in cache keys; never contains secrets. */
  readonly id: string;
  /** Answers come from records (cassettes, a stored run): nothing is called, nothing costs. */
  readonly recorded?: boolean;
  complete(request: ProviderRequest, options: CallOptions): Promise<ProviderResponse>;
  /** A recorded run's whole sample (`--rejudge`): an agent case is judged on its recorded steps. */
  storedRun?(request: ProviderRequest, sample: number): { output?: string; toolCalls?: ToolCall[]; finishReason?: string; usage?: Usage; latencyMs?: number; /** An agent sample's steps (types/agent Step; kept opaque here, below that layer). */ steps?: readonly unknown[]; assertions: { type: string; reason: string }[] } | undefined;
  /** Embedding vectors, for providers that have an embeddings endpoint. */
  embed?(input: string[], options: { model: string; signal?: AbortSignal }): Promise<number[][]>;
}

export type ProviderErrorKind =
  | 'rate_limit'
  | 'server'
  | 'timeout'
  | 'network'
  | 'auth'
  /** The account has no credit or quota left (a 429 with insufficient_quota): waiting will not help. */
  | 'quota'
  | 'bad_request'
  | 'aborted'
  | 'replay_miss'
  | 'config'
  | 'judge';

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly options: { status?: number; retryAfterMs?: number; attempts?: number } = {},
  ) {
    super(message);
    this.name = 'ProviderError';
  }

  /** Every further call to the same endpoint would fail the same way: the run stops at once. */
  get fatal(): boolean {
    return this.kind === 'auth' || this.kind === 'quota';
  }

  get retryable(): boolean {
    return this.kind === 'rate_limit' || this.kind === 'server' || this.kind === 'timeout' || this.kind === 'network';
  }
}

/**
 * The output of an answer that only calls tools: the calls as OpenAI's `tool_calls` list (a legacy
 * `function_call` as its object), as promptfoo
 * gives them to assertions (`output[0].function.name`); scripts and transforms see it as that list.
 */
export function toolCallsOutput(calls: readonly ToolCall[]): string {
  // A legacy function call is one object, as the functions API gives it: {name, arguments}.
  if (calls.length === 1 && calls[0].legacy) return JSON.stringify({ name: calls[0].name, arguments: calls[0].arguments });
  return JSON.stringify(calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })));
}

/** Whether an answer's output is its tool calls (toolCallsOutput), a value for scripts rather than text. */
export function isToolCallsOutput(response: Pick<ProviderResponse, 'output' | 'toolCalls'>): boolean {
  return response.toolCalls.length > 0 && response.output === toolCallsOutput(response.toolCalls);
}
