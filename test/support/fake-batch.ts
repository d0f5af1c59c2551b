import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local fake of OpenAI's files and batches endpoints (and chat completions), for `--batch`: a batch
 * goes validating → in_progress → completed one status check at a time, unless held; requests can be
 * made to fail, and a batch can expire with half its requests answered. Azure OpenAI's flavour is
 * served under `/openai/...`: it needs `api-version` and an `api-key`, and its batches and lines name
 * `/chat/completions` (OpenAI's `/v1/chat/completions`); a line for the other endpoint fails.
 */
export interface FakeBatch {
  baseURL: string;
  counts: { uploads: number; creates: number; retrieves: number; chats: number };
  /** Azure OpenAI requests: how many, and the api-version and key of the last. */
  azure: { requests: number; apiVersion?: string; key?: string };
  /** Keep batches in progress until set to false. */
  hold: boolean;
  /** The batch expires: the first half answered, the rest `batch_expired`. */
  expire: boolean;
  /** Requests that fail inside the batch (a 500 in the error file). */
  fails(body: ChatRequest): boolean;
  close(): Promise<void>;
}

export interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
}

export async function startFakeBatch(answer: (body: ChatRequest) => string): Promise<FakeBatch> {
  const files = new Map<string, string>();
  const batches = new Map<string, { id: string; input: string; endpoint: string; status: string; checks: number; output?: string; errors?: string; total: number; completed: number; failed: number }>();
  let n = 0;
  const completion = (body: ChatRequest) => {
    const content = answer(body);
    const prompt = body.messages.map((m) => m.content).join(' ').split(/\s+/).length;
    const out = content.split(/\s+/).length;
    return { id: `chatcmpl-${++n}`, object: 'chat.completion', created: 1764633600, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: prompt, completion_tokens: out, total_tokens: prompt + out } };
  };
  const state: FakeBatch = {
    baseURL: '',
    counts: { uploads: 0, creates: 0, retrieves: 0, chats: 0 },
    azure: { requests: 0 },
    hold: false,
    expire: false,
    fails: () => false,
    close: () => new Promise((r) => server.close(() => r())),
  };
  const finish = (b: NonNullable<ReturnType<typeof batches.get>>) => {
    const lines = files.get(b.input)!.trim().split('\n').map((l) => JSON.parse(l) as { custom_id: string; url: string; body: ChatRequest });
    const ok: string[] = [];
    const bad: string[] = [];
    lines.forEach((l, i) => {
      if (l.url !== b.endpoint) bad.push(JSON.stringify({ id: `req-${i}`, custom_id: l.custom_id, response: null, error: { code: 'invalid_url', message: `The URL provided for this request does not match the batch endpoint ${b.endpoint}.` } }));
      else if (state.expire && i >= Math.ceil(lines.length / 2)) bad.push(JSON.stringify({ id: `req-${i}`, custom_id: l.custom_id, response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } }));
      else if (state.fails(l.body)) bad.push(JSON.stringify({ id: `req-${i}`, custom_id: l.custom_id, response: { status_code: 500, request_id: `r${i}`, body: { error: { message: 'The server had an error processing your request.', type: 'server_error' } } }, error: null }));
      else ok.push(JSON.stringify({ id: `req-${i}`, custom_id: l.custom_id, response: { status_code: 200, request_id: `r${i}`, body: completion(l.body) }, error: null }));
    });
    b.status = state.expire ? 'expired' : 'completed';
    b.completed = ok.length;
    b.failed = bad.length;
    if (ok.length) files.set((b.output = `file-out-${b.id}`), `${ok.join('\n')}\n`);
    if (bad.length) files.set((b.errors = `file-err-${b.id}`), `${bad.join('\n')}\n`);
  };
  const view = (b: NonNullable<ReturnType<typeof batches.get>>) => ({ id: b.id, object: 'batch', endpoint: b.endpoint, input_file_id: b.input, completion_window: '24h', status: b.status, output_file_id: b.output ?? null, error_file_id: b.errors ?? null, created_at: 1764633600, request_counts: { total: b.total, completed: b.completed, failed: b.failed } });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const address = new URL(req.url ?? '/', 'http://fake');
      const flavour = /^\/(v1|openai)\//.exec(address.pathname)?.[1];
      // Each flavour's paths as OpenAI's: `/openai/batches` is handled as `/v1/batches`.
      const url = flavour === 'openai' ? address.pathname.replace(/^\/openai\//, '/v1/') : address.pathname;
      const endpoint = flavour === 'openai' ? '/chat/completions' : '/v1/chat/completions';
      if (flavour === 'openai') {
        state.azure.requests++;
        state.azure.apiVersion = address.searchParams.get('api-version') ?? undefined;
        state.azure.key = req.headers['api-key'] as string | undefined;
        if (!state.azure.apiVersion) return json(404, { error: { code: '404', message: 'Resource not found' } });
        if (!state.azure.key) return json(401, { error: { code: '401', message: 'Access denied due to invalid subscription key.' } });
      }
      if (req.method === 'POST' && url === '/v1/chat/completions') {
        state.counts.chats++;
        return json(200, completion(JSON.parse(raw.toString()) as ChatRequest));
      }
      if (req.method === 'POST' && url === '/v1/files') {
        const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(req.headers['content-type'] ?? '');
        if (!boundary) return json(400, { error: { message: 'not multipart' } });
        const parts = raw.toString('utf8').split(`--${boundary[1] ?? boundary[2]}`);
        const file = parts.find((p) => /name="file"/.test(p));
        const purpose = parts.find((p) => /name="purpose"/.test(p));
        if (!file || !purpose?.includes('batch')) return json(400, { error: { message: 'a file with purpose batch is needed' } });
        const content = file.slice(file.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, '');
        const id = `file-in-${++state.counts.uploads}`;
        files.set(id, content);
        return json(200, { id, object: 'file', bytes: content.length, created_at: 1764633600, filename: 'batch.jsonl', purpose: 'batch' });
      }
      if (req.method === 'POST' && url === '/v1/batches') {
        const body = JSON.parse(raw.toString()) as { input_file_id: string; endpoint: string };
        const input = files.get(body.input_file_id);
        if (!input || body.endpoint !== endpoint) return json(400, { error: { message: `bad batch: the endpoint is ${endpoint}` } });
        const id = `batch_${++state.counts.creates}`;
        const b = { id, input: body.input_file_id, endpoint, status: 'validating', checks: 0, total: input.trim().split('\n').length, completed: 0, failed: 0 };
        batches.set(id, b);
        return json(200, view(b));
      }
      const get = /^\/v1\/batches\/([^/]+)$/.exec(url);
      if (req.method === 'GET' && get) {
        state.counts.retrieves++;
        const b = batches.get(get[1]);
        if (!b) return json(404, { error: { message: 'no such batch' } });
        if (b.status === 'validating') b.status = 'in_progress';
        else if (b.status === 'in_progress' && !state.hold) finish(b);
        return json(200, view(b));
      }
      const content = /^\/v1\/files\/([^/]+)\/content$/.exec(url);
      if (req.method === 'GET' && content) {
        const text = files.get(content[1]);
        if (text === undefined) return json(404, { error: { message: 'no such file' } });
        return res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(text);
      }
      json(404, { error: { message: `not faked: ${req.method} ${url}` } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return state;
}
