import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the fake Claude answers to one request. */
export interface AnthropicReply {
  text?: string;
  toolUses?: { name: string; input: unknown }[];
  stopReason?: string;
  usage?: { input_tokens: number; output_tokens: number };
  model?: string;
}

export type AnthropicFault =
  | { kind: '429'; retryAfterSeconds: number }
  | { kind: 'status'; status: number; type: string; message: string }
  /** Headers and the first event, then nothing more, the connection left open. */
  | { kind: 'stall' };

export interface MessagesBody {
  model: string;
  max_tokens: number;
  system?: string | unknown[];
  messages: { role: string; content: string | unknown[] }[];
  tools?: { name: string; description?: string; input_schema: unknown }[];
  tool_choice?: unknown;
  stop_sequences?: string[];
  stream?: boolean;
  [k: string]: unknown;
}

export interface FakeAnthropic {
  baseURL: string;
  requests: { body: MessagesBody; headers: http.IncomingHttpHeaders; url: string }[];
  close(): Promise<void>;
}

/** Anthropic's Messages API on 127.0.0.1: whole and streamed answers, tool use, usage, errors and rate limits. */
export async function startFakeAnthropic(options: { respond?: (body: MessagesBody) => AnthropicReply; fault?: (n: number) => AnthropicFault | undefined } = {}): Promise<FakeAnthropic> {
  const sockets = new Set<Socket>();
  const state: FakeAnthropic = {
    baseURL: '',
    requests: [],
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/messages') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'not found' } }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as MessagesBody;
      const n = state.requests.length;
      state.requests.push({ body, headers: req.headers, url: req.url });
      const error = (status: number, type: string, message: string, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ type: 'error', error: { type, message } }));
      // The SDK sends the key as x-api-key, or (from 1.x) as a bearer token.
      if (!req.headers['x-api-key'] && !/^Bearer ./.test(req.headers.authorization ?? '')) return error(401, 'authentication_error', 'x-api-key header is required');
      if (typeof body.max_tokens !== 'number') return error(400, 'invalid_request_error', 'max_tokens: Field required');
      const fault = options.fault?.(n);
      if (fault?.kind === '429') return error(429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', { 'retry-after': String(fault.retryAfterSeconds) });
      if (fault?.kind === 'status') return error(fault.status, fault.type, fault.message);
      const last = [...body.messages].reverse().find((m) => m.role === 'user');
      const reply = options.respond?.(body) ?? { text: `claude: ${last?.content ?? ''}` };
      const blocks = [
        ...(reply.text !== undefined ? [{ type: 'text', text: reply.text }] : []),
        ...(reply.toolUses ?? []).map((t, i) => ({ type: 'tool_use', id: `toolu_${i}`, name: t.name, input: t.input })),
      ];
      const stopReason = reply.stopReason ?? (reply.toolUses?.length ? 'tool_use' : 'end_turn');
      // Content is text, or a list of blocks (promptfoo sends those).
      const words = (c: unknown) => {
        const s = typeof c === 'string' ? c : JSON.stringify(c ?? '');
        return s.trim() ? s.trim().split(/\s+/).length : 0;
      };
      const usage = reply.usage ?? { input_tokens: body.messages.reduce((k, m) => k + words(m.content), words(body.system ?? '')), output_tokens: words(reply.text ?? '') + 5 * (reply.toolUses?.length ?? 0) };
      const model = reply.model ?? body.model;
      const id = `msg_${n}`;
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, type: 'message', role: 'assistant', model, content: blocks, stop_reason: stopReason, stop_sequence: null, usage }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...(data as object) })}\n\n`);
      send('message_start', { message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input_tokens, output_tokens: 1 } } });
      if (fault?.kind === 'stall') return;
      blocks.forEach((b, index) => {
        if (b.type === 'text') {
          send('content_block_start', { index, content_block: { type: 'text', text: '' } });
          for (const piece of (b as { text: string }).text.match(/[\s\S]{1,8}/g) ?? []) send('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
        } else {
          const t = b as { id: string; name: string; input: unknown };
          send('content_block_start', { index, content_block: { type: 'tool_use', id: t.id, name: t.name, input: {} } });
          const json = JSON.stringify(t.input);
          for (const piece of json.match(/[\s\S]{1,6}/g) ?? []) send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } });
        }
        send('content_block_stop', { index });
      });
      send('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
      send('message_stop', {});
      res.end();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
