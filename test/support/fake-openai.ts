import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the fake model answers to one request. */
export interface Reply {
  content?: string | null;
  toolCalls?: { name: string; arguments: string }[];
  /** A call through the legacy functions API (`message.function_call`). */
  functionCall?: { name: string; arguments: string };
  finishReason?: string;
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** The model the answer reports (default: the one asked for), as a provider does when an alias moves to a new snapshot. */
  model?: string;
  /** Reported as `system_fingerprint`. */
  fingerprint?: string;
}

export type Fault =
  | { kind: '429'; retryAfterSeconds?: number; retryAfterMs?: number }
  | { kind: '500' }
  /** `message` may hold {authorization}: the request's Authorization header, as some servers echo it. */
  | { kind: 'status'; status: number; message?: string }
  | { kind: 'hang' }
  | { kind: 'reset' }
  /** The answer starts (headers, or headers and the first chunk or half the body), then nothing more, the connection left open. */
  | { kind: 'stall'; after: 'headers' | 'chunk' }
  /** A 429 that no wait ends: the account has no credit left. */
  | { kind: 'quota' };

export interface ChatBody {
  model: string;
  messages: { role: string; content: string; tool_calls?: { id: string; function: { name: string; arguments: string } }[]; tool_call_id?: string }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: unknown[];
  [k: string]: unknown;
}

export interface FakeOpenAIOptions {
  latencyMs?: number;
  respond?: (body: ChatBody) => Reply;
  /** Decides a fault for the n-th request (0-based); undefined answers normally. */
  fault?: (n: number, body: ChatBody) => Fault | undefined;
  /** Keep every request body (tests); off for benchmarks. */
  keepRequests?: boolean;
  /** At most this many requests in flight; the rest get 429. */
  maxInFlight?: number;
}

export interface FakeOpenAI {
  baseURL: string;
  requests: { body: ChatBody; authorization?: string; headers: http.IncomingHttpHeaders; at: number; url: string }[];
  count: number;
  maxSeenInFlight: number;
  close(): Promise<void>;
}

const words = (s: string) => (s.trim() ? s.trim().split(/\s+/).length : 0);

/** A deterministic embedding: hashed word counts in 64 dimensions, so texts sharing words are similar. */
export function bagOfWords(text: string): number[] {
  const v = new Array<number>(64).fill(0);
  for (const w of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let h = 2166136261;
    for (const ch of w) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    v[h % 64] += 1;
  }
  return v;
}

/** The default model: repeats the last user message, so assertions can be aimed at it. */
export function echoReply(body: ChatBody): Reply {
  const last = [...body.messages].reverse().find((m) => m.role === 'user');
  return { content: `echo: ${last?.content ?? ''}` };
}

/** An OpenAI-compatible chat-completions server on 127.0.0.1 with latency, streaming and faults. */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const sockets = new Set<Socket>();
  let inFlight = 0;
  const state: FakeOpenAI = {
    baseURL: '',
    requests: [],
    count: 0,
    maxSeenInFlight: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url?.endsWith('/embeddings')) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        state.count++;
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string; input: string | string[] };
        const inputs = Array.isArray(body.input) ? body.input : [body.input];
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({ object: 'list', model: body.model, data: inputs.map((t, index) => ({ object: 'embedding', index, embedding: bagOfWords(t) })), usage: { prompt_tokens: 0, total_tokens: 0 } }),
        );
      });
      return;
    }
    // Azure OpenAI adds the deployment to the path and the API version as a query.
    if (req.method !== 'POST' || !req.url?.split('?')[0].endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatBody;
      const n = state.count++;
      if (options.keepRequests !== false) state.requests.push({ body, authorization: req.headers.authorization, headers: req.headers, at: Date.now(), url: req.url ?? '' });
      if (options.maxInFlight !== undefined && inFlight >= options.maxInFlight) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after-ms': '50' }).end(JSON.stringify({ error: { message: 'too many requests in flight' } }));
        return;
      }
      inFlight++;
      state.maxSeenInFlight = Math.max(state.maxSeenInFlight, inFlight);
      res.on('close', () => inFlight--);
      const fault = options.fault?.(n, body);
      const go = () => answer(body, fault, res, req.socket, req.headers.authorization ?? '');
      if (options.latencyMs) setTimeout(go, options.latencyMs);
      else go();
    });
  });
  const answer = (body: ChatBody, fault: Fault | undefined, res: http.ServerResponse, socket: Socket, authorization: string) => {
    if (fault?.kind === 'hang') return;
    if (fault?.kind === '429') {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
      res.writeHead(429, headers).end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'rate_limit' } }));
      return;
    }
    if (fault?.kind === 'quota') {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end(JSON.stringify({ error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', code: 'insufficient_quota' } }));
      return;
    }
    if (fault?.kind === 'stall' && fault.after === 'headers') {
      res.writeHead(200, { 'content-type': body.stream ? 'text/event-stream' : 'application/json' });
      res.flushHeaders();
      return;
    }
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: (fault.message ?? `status ${fault.status}`).replace('{authorization}', authorization) } }));
      return;
    }
    if (fault?.kind === '500') {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'The server had an error' } }));
      return;
    }
    let reply: Reply;
    try {
      reply = (options.respond ?? echoReply)(body);
    } catch (err) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: (err as Error).message } }));
      return;
    }
    const content = reply.content ?? null;
    const toolCalls = (reply.toolCalls ?? []).map((t, i) => ({ id: `call_${i}`, type: 'function', function: t }));
    const functionCall = reply.functionCall;
    const finish = reply.finishReason ?? (toolCalls.length ? 'tool_calls' : functionCall ? 'function_call' : 'stop');
    const promptTokens = reply.usage?.prompt_tokens ?? body.messages.reduce((s, m) => s + words(String(m.content)), 0);
    const completionTokens = reply.usage?.completion_tokens ?? words(content ?? '') + toolCalls.length * 5;
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
    if (!body.stream) {
      const whole = JSON.stringify({
        id,
        object: 'chat.completion',
        created: 0,
        model: reply.model ?? body.model,
        ...(reply.fingerprint ? { system_fingerprint: reply.fingerprint } : {}),
        choices: [{ index: 0, message: { role: 'assistant', content, tool_calls: toolCalls.length ? toolCalls : undefined, function_call: functionCall }, finish_reason: finish }],
        usage,
      });
      if (fault?.kind === 'stall') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(whole)) });
        res.write(whole.slice(0, whole.length >> 1));
        return;
      }
      if (fault?.kind === 'reset') {
        // Half the promised body, then the connection is gone.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(whole)) });
        res.write(whole.slice(0, whole.length >> 1), () => socket.destroy());
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(whole);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (delta: unknown, finishReason: string | null = null, extra: Record<string, unknown> = {}) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 0, model: reply.model ?? body.model, ...(reply.fingerprint ? { system_fingerprint: reply.fingerprint } : {}), choices: delta === null ? [] : [{ index: 0, delta, finish_reason: finishReason }], ...extra })}\n\n`);
    send({ role: 'assistant', content: '' });
    if (fault?.kind === 'stall') return;
    const text = content ?? '';
    const pieces = text.match(/[\s\S]{1,8}/g) ?? [];
    pieces.forEach((p, i) => {
      send({ content: p });
      if (fault?.kind === 'reset' && i === Math.floor(pieces.length / 2)) socket.destroy();
    });
    if (fault?.kind === 'reset') {
      socket.destroy();
      return;
    }
    toolCalls.forEach((t, i) => {
      send({ tool_calls: [{ index: i, id: t.id, type: 'function', function: { name: t.function.name, arguments: '' } }] });
      send({ tool_calls: [{ index: i, function: { arguments: t.function.arguments } }] });
    });
    if (functionCall) {
      send({ function_call: { name: functionCall.name, arguments: '' } });
      send({ function_call: { arguments: functionCall.arguments } });
    }
    send({}, finish);
    if (body.stream_options?.include_usage) send(null, null, { usage });
    res.end('data: [DONE]\n\n');
  };
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return state;
}
