import type Anthropic from '@anthropic-ai/sdk';
import type { ProviderOptions } from '../schema';
import { limited, limiterFor, type AdaptiveLimiter } from './adaptive';
import { withDeadlines } from './deadline';
import { classify } from './openai';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry';
import { vendor } from '../vendor';
import { ProviderError, toolCallsOutput, type CallOptions, type Provider, type ProviderRequest, type ProviderResponse, type ToolCall } from './types';

export interface AnthropicProviderSettings {
  apiKey: string;
  baseURL: string;
  timeoutMs: number;
  retry: RetryPolicy;
  stream: boolean;
  idleMs?: number;
  limiter?: AdaptiveLimiter;
}

/** The Messages API needs max_tokens; promptfoo sends this when a config gives none. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 1024;

/** Request fields PromptGate maps itself; any other field of the request is sent as written. */
const MAPPED = new Set(['model', 'messages', 'temperature', 'max_tokens', 'max_completion_tokens', 'top_p', 'seed', 'stop', 'presence_penalty', 'frequency_penalty', 'tools', 'tool_choice', 'response_format']);

/**
 * PromptGate's request (the chat-completions shape) as a Messages API body: system and developer
 * messages become `system`, tools their `input_schema` form, `stop` is `stop_sequences`.
 * `seed`, the penalties and `response_format` have no Messages API equivalent and are not sent.
 */
export function toMessagesBody(request: ProviderRequest): Anthropic.MessageCreateParamsNonStreaming {
  const system = request.messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => m.content).join('\n\n');
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(request)) if (!MAPPED.has(k) && v !== undefined) body[k] = v;
  body.model = request.model;
  body.max_tokens = request.max_tokens ?? (request.max_completion_tokens as number | undefined) ?? ANTHROPIC_DEFAULT_MAX_TOKENS;
  body.messages = conversation(request.messages);
  if (system) body.system = system;
  if (request.temperature !== undefined) body.temperature = Math.min(1, request.temperature);
  if (request.top_p !== undefined) body.top_p = request.top_p;
  if (request.stop !== undefined) body.stop_sequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.tools?.length) {
    body.tools = request.tools.map((t) => ({ name: t.function.name, description: t.function.description, input_schema: t.function.parameters ?? { type: 'object', properties: {} } }));
    const choice = request.tool_choice;
    if (choice === 'required') body.tool_choice = { type: 'any' };
    else if (choice === 'none') body.tool_choice = { type: 'none' };
    else if (choice && typeof choice === 'object') body.tool_choice = { type: 'tool', name: choice.function.name };
  }
  return body as unknown as Anthropic.MessageCreateParamsNonStreaming;
}

type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown } | { type: 'tool_result'; tool_use_id: string; content: string };

/**
 * The conversation as the Messages API takes it: an assistant's tool calls are `tool_use` blocks,
 * and the tools' answers `tool_result` blocks of the next user message (consecutive ones together).
 */
function conversation(messages: ProviderRequest['messages']): { role: 'user' | 'assistant'; content: string | Block[] }[] {
  const out: { role: 'user' | 'assistant'; content: string | Block[] }[] = [];
  for (const m of messages) {
    if (m.role === 'assistant' && m.tool_calls?.length) {
      const blocks: Block[] = m.content ? [{ type: 'text', text: m.content }] : [];
      for (const c of m.tool_calls) blocks.push({ type: 'tool_use', id: c.id, name: c.function.name, input: parsedOrEmpty(c.function.arguments) });
      out.push({ role: 'assistant', content: blocks });
    } else if (m.role === 'tool') {
      const block: Block = { type: 'tool_result', tool_use_id: m.tool_call_id ?? '', content: m.content };
      const last = out[out.length - 1];
      if (last?.role === 'user' && Array.isArray(last.content) && last.content.every((b) => b.type === 'tool_result')) last.content.push(block);
      else out.push({ role: 'user', content: [block] });
    } else if (m.role === 'user' || m.role === 'assistant') out.push({ role: m.role, content: m.content });
  }
  return out;
}

function parsedOrEmpty(text: string): unknown {
  try {
    return JSON.parse(text || '{}');
  } catch {
    return {};
  }
}

const FINISH: Record<string, string> = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool_calls', refusal: 'content_filter' };

function answer(blocks: { type: string; text?: string; id?: string; name?: string; input?: unknown }[], stopReason: string | null | undefined, usage: { input_tokens: number; output_tokens: number } | undefined, model: string | undefined): ProviderResponse {
  const text = blocks.filter((b) => b.type === 'text').map((b) => b.text ?? '').join('');
  const toolCalls: ToolCall[] = blocks.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id, name: b.name ?? '', arguments: JSON.stringify(b.input ?? {}) }));
  return {
    output: text || (toolCalls.length ? toolCallsOutput(toolCalls) : ''),
    toolCalls,
    finishReason: stopReason ? (FINISH[stopReason] ?? stopReason) : undefined,
    usage: usage ? { promptTokens: usage.input_tokens, completionTokens: usage.output_tokens, totalTokens: usage.input_tokens + usage.output_tokens } : undefined,
    model,
  };
}

/** Anthropic's Messages API through its official SDK (`anthropic:messages:MODEL` in promptfoo files). */
export class AnthropicProvider implements Provider {
  readonly id: string;
  private client?: Anthropic;

  constructor(private readonly settings: AnthropicProviderSettings) {
    this.id = `anthropic:${settings.baseURL}`;
  }

  private sdk(): Anthropic {
    if (!this.client) {
      const AnthropicClient = vendor.anthropic();
      // maxRetries 0: retries are ours (bounded, jittered, Retry-After aware, cancellable).
      this.client = new AnthropicClient({ apiKey: this.settings.apiKey, baseURL: this.settings.baseURL, maxRetries: 0, timeout: this.settings.timeoutMs });
    }
    return this.client;
  }

  async complete(request: ProviderRequest, options: CallOptions): Promise<ProviderResponse> {
    const client = this.sdk();
    const body = toMessagesBody(request);
    // Retries are counted, so an agent's steps show how often a call had to be tried again.
    let retries = 0;
    const r = await withRetry(() => limited(this.settings.limiter, () => this.once(client, body, options.signal), options.signal, (x) => x.usage?.totalTokens), { policy: this.settings.retry, signal: options.signal, onRetry: () => retries++ });
    return retries ? { ...r, retries } : r;
  }

  private async once(client: Anthropic, body: Anthropic.MessageCreateParamsNonStreaming, outer: AbortSignal | undefined): Promise<ProviderResponse> {
    if (!this.settings.stream) {
      try {
        const m = await client.messages.create(body, { signal: outer });
        return answer(m.content, m.stop_reason, m.usage, m.model);
      } catch (err) {
        throw this.redacted(classifyAnthropic(err, outer));
      }
    }
    return withDeadlines(outer, this.settings, (signal, alive) => this.streamed(client, body, signal, alive), (err, signal) => this.redacted(classifyAnthropic(err, signal)));
  }

  private async streamed(client: Anthropic, body: Anthropic.MessageCreateParamsNonStreaming, signal: AbortSignal, alive: () => void): Promise<ProviderResponse> {
    const stream = await client.messages.create({ ...body, stream: true }, { signal, timeout: this.settings.timeoutMs + 5_000 });
    const blocks: { type: string; text?: string; id?: string; name?: string; input?: unknown; json?: string }[] = [];
    let stopReason: string | null | undefined;
    let model: string | undefined;
    let input = 0;
    let output = 0;
    for await (const event of stream) {
      alive();
      if (event.type === 'message_start') {
        model = event.message.model;
        input = event.message.usage.input_tokens;
        output = event.message.usage.output_tokens;
      } else if (event.type === 'content_block_start') {
        const b = event.content_block;
        blocks[event.index] = b.type === 'tool_use' ? { type: 'tool_use', id: b.id, name: b.name, json: '' } : { type: b.type, text: b.type === 'text' ? b.text : '' };
      } else if (event.type === 'content_block_delta') {
        const b = blocks[event.index];
        if (b && event.delta.type === 'text_delta') b.text = (b.text ?? '') + event.delta.text;
        else if (b && event.delta.type === 'input_json_delta') b.json = (b.json ?? '') + event.delta.partial_json;
      } else if (event.type === 'message_delta') {
        stopReason = event.delta.stop_reason;
        output = event.usage.output_tokens ?? output;
      }
    }
    if (!stopReason) throw new ProviderError('network', 'the stream ended before the model finished');
    // A tool call's input arrives as JSON text in pieces; an invalid one is kept as text for the assertions to judge.
    const done = blocks.filter(Boolean).map((b) => (b.type === 'tool_use' ? { ...b, input: parseOr(b.json ?? '', b.json) } : b));
    return answer(done, stopReason, { input_tokens: input, output_tokens: output }, model);
  }

  private redacted(err: ProviderError): ProviderError {
    const key = this.settings.apiKey;
    if (key.length >= 8 && err.message.includes(key)) err.message = err.message.split(key).join('[redacted key]');
    return err;
  }
}

function parseOr(text: string, fallback: unknown): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

/** The OpenAI mapping, plus Anthropic's own: 529 overloaded is a server error, an empty balance is out of quota. */
function classifyAnthropic(err: unknown, signal?: AbortSignal): ProviderError {
  const e = err as { status?: number; message?: string };
  if (e.status === 400 && /credit balance is too low/i.test(e.message ?? '')) return new ProviderError('quota', `HTTP 400: ${e.message}`, { status: 400 });
  return classify(err, signal);
}

export function anthropicFromOptions(options: ProviderOptions, env: Record<string, string | undefined>): AnthropicProvider {
  const keyVar = options.apiKeyEnv ?? 'ANTHROPIC_API_KEY';
  const key = env[keyVar] || undefined;
  const baseURL = options.baseURL ?? env.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com';
  if (!key) throw new ProviderError('config', `${keyVar} is not set: set it to run against Anthropic, or run offline with --replay`);
  return new AnthropicProvider({
    apiKey: key,
    baseURL,
    timeoutMs: options.timeoutMs ?? 60_000,
    retry: { ...DEFAULT_RETRY, maxRetries: options.maxRetries ?? DEFAULT_RETRY.maxRetries },
    stream: options.stream ?? false,
    limiter: limiterFor(`${baseURL} ${keyVar}`, { rpm: options.rpm, tpm: options.tpm }),
  });
}
