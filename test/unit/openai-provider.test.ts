import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { OpenAIProvider, ProviderError, backoffDelay, classifyProviderError, createProvider, parseRetryAfter, type ProviderRequest } from '../../src/core';
import { KeepAliveTransport } from '../../src/core/providers/http-fetch';
import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIOptions } from '../support/fake-openai';

const request: ProviderRequest = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }], temperature: 0 };
const fast = { maxRetries: 3, baseDelayMs: 5, maxDelayMs: 50 };

describe('openai provider (real SDK against a local server)', () => {
  let server: FakeOpenAI | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  async function setup(options: FakeOpenAIOptions, settings: Partial<ConstructorParameters<typeof OpenAIProvider>[0]> = {}) {
    server = await startFakeOpenAI(options);
    return new OpenAIProvider({ apiKey: 'sk-test-secret', baseURL: server.baseURL, timeoutMs: 2000, retry: fast, stream: false, ...settings });
  }

  it('sends the request and maps content, usage and finish reason', async () => {
    const p = await setup({});
    const r = await p.complete(request, { sample: 0 });
    assert.equal(r.output, 'echo: hello there');
    assert.equal(r.finishReason, 'stop');
    assert.deepEqual(r.usage, { promptTokens: 2, completionTokens: 3, totalTokens: 5 });
    assert.equal(server!.requests[0].body.temperature, 0);
    assert.equal(server!.requests[0].authorization, 'Bearer sk-test-secret');
  });

  it('streams content and tool calls', async () => {
    const p = await setup({ respond: () => ({ content: 'a fairly long streamed answer', toolCalls: [{ name: 'lookup', arguments: '{"q":"x"}' }] }) }, { stream: true });
    const r = await p.complete(request, { sample: 0 });
    assert.equal(r.output, 'a fairly long streamed answer');
    assert.deepEqual(r.toolCalls.map((c) => [c.name, c.arguments]), [['lookup', '{"q":"x"}']]);
    assert.equal(r.finishReason, 'tool_calls');
    assert.ok(r.usage && r.usage.totalTokens > 0);
    assert.equal(server!.requests[0].body.stream, true);
  });

  it('returns tool calls, with their JSON as output when there is no text', async () => {
    const p = await setup({ respond: () => ({ content: null, toolCalls: [{ name: 'get_weather', arguments: '{"city":"Oslo"}' }] }) });
    const r = await p.complete(request, { sample: 0 });
    assert.deepEqual(r.toolCalls.map((c) => c.name), ['get_weather']);
    assert.deepEqual(
      (JSON.parse(r.output) as { type: string; function: unknown }[]).map((c) => ({ type: c.type, function: c.function })),
      [{ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
    );
  });

  for (const stream of [false, true]) {
    it(`reads a legacy function_call (the functions API)${stream ? ', streamed' : ''}: its object is the output`, async () => {
      const p = await setup({ respond: () => ({ content: null, functionCall: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }) }, { stream });
      const r = await p.complete(request, { sample: 0 });
      assert.deepEqual(r.toolCalls, [{ name: 'get_weather', arguments: '{"city":"Oslo"}', legacy: true }]);
      assert.deepEqual(JSON.parse(r.output), { name: 'get_weather', arguments: '{"city":"Oslo"}' });
      assert.equal(r.finishReason, 'function_call');
    });
  }

  it('retries a 429 after the Retry-After it was given', async () => {
    const p = await setup({ fault: (n) => (n === 0 ? { kind: '429', retryAfterMs: 150 } : undefined) });
    const t0 = Date.now();
    const r = await p.complete(request, { sample: 0 });
    assert.equal(r.output, 'echo: hello there');
    assert.equal(server!.count, 2);
    assert.ok(Date.now() - t0 >= 140, 'waited for Retry-After');
  });

  it('retries 500s and gives up after maxRetries with the attempt count', async () => {
    const p = await setup({ fault: () => ({ kind: '500' }) });
    await assert.rejects(p.complete(request, { sample: 0 }), (e: unknown) => e instanceof ProviderError && e.kind === 'server' && e.options.attempts === 4 && /after 4 attempts/.test(e.message));
    assert.equal(server!.count, 4);
  });

  it('recovers from a 500 followed by success', async () => {
    const p = await setup({ fault: (n) => (n < 2 ? { kind: '500' } : undefined) });
    assert.equal((await p.complete(request, { sample: 0 })).output, 'echo: hello there');
    assert.equal(server!.count, 3);
  });

  it('times out a hung connection and retries it', async () => {
    const p = await setup({ fault: (n) => (n === 0 ? { kind: 'hang' } : undefined) }, { timeoutMs: 200 });
    const r = await p.complete(request, { sample: 0 });
    assert.equal(r.output, 'echo: hello there');
    assert.equal(server!.count, 2);
  });

  it('reports a connection reset mid-stream as a network error after bounded retries', async () => {
    const p = await setup({ fault: () => ({ kind: 'reset' }), respond: () => ({ content: 'x'.repeat(200) }) }, { stream: true, retry: { ...fast, maxRetries: 1 } });
    await assert.rejects(p.complete(request, { sample: 0 }), (e: unknown) => e instanceof ProviderError && e.kind === 'network');
    assert.equal(server!.count, 2);
  });

  it('reports a connection reset in the middle of a whole answer as a network error, then retries it', async () => {
    const p = await setup({ fault: (n) => (n < 2 ? { kind: 'reset' } : undefined), respond: () => ({ content: 'y'.repeat(5000) }) }, { retry: { ...fast, maxRetries: 1 } });
    await assert.rejects(p.complete(request, { sample: 0 }), (e: unknown) => e instanceof ProviderError && e.kind === 'network' && e.options.attempts === 2);
    assert.equal((await p.complete(request, { sample: 0 })).output, 'y'.repeat(5000));
    assert.equal(server!.count, 3);
  });

  for (const stream of [true, false]) {
    for (const after of ['headers', 'chunk'] as const) {
      it(`a ${stream ? 'stream' : 'whole answer'} that stalls after its ${after === 'headers' ? 'headers' : 'first part'} times out and is retried`, async () => {
        const p = await setup({ fault: (n) => (n === 0 ? { kind: 'stall', after } : undefined), respond: () => ({ content: 'z'.repeat(300) }) }, { stream, timeoutMs: 1_500, idleMs: 300 });
        const t0 = Date.now();
        assert.equal((await p.complete(request, { sample: 0 })).output, 'z'.repeat(300));
        assert.equal(server!.count, 2);
        // Bounded by the idle limit for a stream once data flowed, by the whole deadline otherwise.
        assert.ok(Date.now() - t0 < (stream && after === 'chunk' ? 1_400 : 5_000), `${Date.now() - t0} ms`);
      });
    }
  }

  it('a stream whose every attempt stalls ends as a timeout, not a network error, within its deadlines', async () => {
    const p = await setup({ fault: () => ({ kind: 'stall', after: 'chunk' }) }, { stream: true, timeoutMs: 600, retry: { ...fast, maxRetries: 1 } });
    await assert.rejects(p.complete(request, { sample: 0 }), (e: unknown) => e instanceof ProviderError && e.kind === 'timeout' && /no data|no complete answer/.test(e.message) && e.options.attempts === 2);
    await server!.close();
    const before = await setup({ fault: () => ({ kind: 'hang' }) }, { stream: true, timeoutMs: 300, retry: { ...fast, maxRetries: 0 } });
    await assert.rejects(before.complete(request, { sample: 0 }), (e: unknown) => e instanceof ProviderError && e.kind === 'timeout' && /no complete answer within 0.3 s/.test(e.message));
  });

  it('a 429 for no quota left is not retried and is its own kind', async () => {
    const p = await setup({ fault: () => ({ kind: 'quota' }) });
    await assert.rejects(p.complete(request, { sample: 0 }), (e: unknown) => e instanceof ProviderError && e.kind === 'quota' && e.fatal && /exceeded your current quota/.test(e.message));
    assert.equal(server!.count, 1);
  });

  it('no retry starts past the total limit for one call, whatever Retry-After says', async () => {
    const p = await setup({ fault: () => ({ kind: '429', retryAfterSeconds: 3600 }) }, { retry: { ...fast, totalMs: 2_000 } });
    const t0 = Date.now();
    await assert.rejects(p.complete(request, { sample: 0 }), (e: unknown) => e instanceof ProviderError && e.kind === 'rate_limit' && /2 s limit for one call/.test(e.message));
    assert.ok(Date.now() - t0 < 1_500, `${Date.now() - t0} ms`);
    assert.equal(server!.count, 1);
  });

  it('does not retry authentication or request errors', async () => {
    const p = await setup({ fault: (n) => ({ kind: 'status', status: n === 0 ? 401 : 400 }) });
    await assert.rejects(p.complete(request, { sample: 0 }), (e: unknown) => e instanceof ProviderError && e.kind === 'auth' && e.options.status === 401);
    await assert.rejects(p.complete(request, { sample: 0 }), (e: unknown) => e instanceof ProviderError && e.kind === 'bad_request' && e.options.status === 400);
    assert.equal(server!.count, 2);
  });

  it('cancels through an AbortSignal, during a call and between retries', async () => {
    const p = await setup({ fault: () => ({ kind: 'hang' }) }, { timeoutMs: 10_000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    await assert.rejects(p.complete(request, { sample: 0, signal: ac.signal }), (e: unknown) => e instanceof ProviderError && e.kind === 'aborted');
    assert.ok(Date.now() - t0 < 2000);

    const slow = new OpenAIProvider({ apiKey: 'k', baseURL: server!.baseURL, timeoutMs: 2000, retry: { maxRetries: 5, baseDelayMs: 5000, maxDelayMs: 5000 }, stream: false });
    const ac2 = new AbortController();
    const pending = slow.complete(request, { sample: 0, signal: ac2.signal });
    setTimeout(() => ac2.abort(), 100);
    await assert.rejects(pending, (e: unknown) => e instanceof ProviderError && e.kind === 'aborted');
  });

  it('needs a key for api.openai.com but not for a local base URL', () => {
    assert.throws(() => createProvider({ id: 'openai' }, { env: {} }), (e: unknown) => e instanceof ProviderError && e.kind === 'config' && /OPENAI_API_KEY is not set/.test(e.message));
    assert.throws(() => createProvider({ id: 'openai', apiKeyEnv: 'MY_KEY' }, { env: { OPENAI_API_KEY: 'x' } }), /MY_KEY is not set/);
    assert.throws(() => createProvider({ id: 'openai' }, { env: { OPENAI_API_KEY: '' } }), /OPENAI_API_KEY is not set/, 'an empty variable is no key');
    const p = createProvider({ id: 'openai' }, { env: { OPENAI_BASE_URL: 'http://127.0.0.1:1/v1', OPENAI_API_KEY: '' } });
    assert.equal(p.id, 'openai:http://127.0.0.1:1/v1');
    assert.ok(!p.id.includes('sk-'));
  });
});

describe('openai provider: a whole answer sends what the SDK sends and fails as the SDK fails', () => {
  // Whole answers skip the SDK's per-call pipeline (its URL and headers are built once); the SDK's
  // own chat.completions.create is the reference for every byte sent and every error made.
  type Answer = { status: number; headers?: Record<string, string>; body: string };
  const answers: Record<string, Answer> = {
    ok: { status: 200, body: JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'gpt-4o-mini-2024', choices: [{ index: 0, message: { role: 'assistant', content: 'hi', tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }] }, finish_reason: 'tool_calls' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }) },
    badRequest: { status: 400, body: JSON.stringify({ error: { message: "Invalid value for 'temperature'", type: 'invalid_request_error', param: 'temperature', code: null } }) },
    auth: { status: 401, body: JSON.stringify({ error: { message: 'Incorrect API key provided: sk-contr***', type: 'invalid_request_error', code: 'invalid_api_key' } }) },
    rateLimit: { status: 429, headers: { 'retry-after': '7' }, body: JSON.stringify({ error: { message: 'Rate limit reached for requests', type: 'requests' } }) },
    rateLimitMs: { status: 429, headers: { 'retry-after-ms': '250', 'x-request-id': 'req_1' }, body: '{"error":{"message":"slow down"}}' },
    serverText: { status: 502, body: '<html>Bad gateway</html>' },
    serverEmpty: { status: 503, body: '' },
  };
  const seen: { headers: http.IncomingHttpHeaders; body: string; url?: string }[] = [];
  let current: Answer = answers.ok;
  let server: http.Server;
  let baseURL: string;
  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body, url: req.url });
        res.writeHead(current.status, { 'content-type': current.body.startsWith('{') ? 'application/json' : 'text/html', ...current.headers }).end(current.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  // The SDK reads the organisation from the environment; both clients must send it.
  let org: string | undefined;
  beforeEach(() => {
    org = process.env.OPENAI_ORG_ID;
    process.env.OPENAI_ORG_ID = 'org-1';
  });
  afterEach(() => {
    if (org === undefined) delete process.env.OPENAI_ORG_ID;
    else process.env.OPENAI_ORG_ID = org;
  });

  const rich: ProviderRequest = { ...request, max_tokens: 20, stop: ['\n'], seed: 7, tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }], response_format: { type: 'json_object' } };
  const none = { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 };

  async function both(answer: Answer) {
    current = answer;
    seen.length = 0;
    // The reference goes through the transport the provider gives the SDK (undici's fetch would add its own headers).
    const sdk = new OpenAI({ apiKey: 'sk-contract-key', baseURL, maxRetries: 0, timeout: 5000, fetch: new KeepAliveTransport().fetch });
    const viaSdk = await sdk.chat.completions.create({ ...rich, stream: false } as OpenAI.ChatCompletionCreateParamsNonStreaming).then(
      (r) => ({ ok: r }),
      (e: unknown) => ({ err: classifyProviderError(e) }),
    );
    const ours = new OpenAIProvider({ apiKey: 'sk-contract-key', baseURL, timeoutMs: 5000, retry: none, stream: false });
    const viaOurs = await ours.complete(rich, { sample: 0 }).then(
      (r) => ({ ok: r }),
      (e: unknown) => ({ err: e as ProviderError }),
    );
    assert.equal(seen.length, 2);
    return { viaSdk, viaOurs, sent: [...seen] };
  }

  it('sends the same body to the same URL with the same headers', async () => {
    const { viaSdk, viaOurs, sent } = await both(answers.ok);
    assert.ok('ok' in viaSdk && 'ok' in viaOurs);
    assert.equal(sent[1].url, sent[0].url);
    assert.equal(sent[1].body, sent[0].body);
    const strip = (h: http.IncomingHttpHeaders) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'connection'));
    assert.deepEqual(strip(sent[1].headers), strip(sent[0].headers));
    assert.equal(sent[1].headers['openai-organization'], 'org-1');
    assert.equal(sent[1].headers.authorization, 'Bearer sk-contract-key');
    const r = viaOurs.ok;
    const c = viaSdk.ok.choices[0];
    assert.equal(r.output, c.message.content);
    assert.deepEqual(r.toolCalls, [{ id: 't1', name: 'f', arguments: '{}' }]);
    assert.equal(r.finishReason, c.finish_reason);
    assert.equal(r.model, viaSdk.ok.model);
    assert.deepEqual(r.usage, { promptTokens: 3, completionTokens: 1, totalTokens: 4 });
  });

  for (const name of ['badRequest', 'auth', 'rateLimit', 'rateLimitMs', 'serverText', 'serverEmpty']) {
    it(`fails as the SDK does: ${name}`, async () => {
      const { viaSdk, viaOurs } = await both(answers[name]);
      assert.ok('err' in viaSdk && 'err' in viaOurs, 'both fail');
      const pick = (e: ProviderError) => ({ kind: e.kind, message: e.message, status: e.options.status, retryAfterMs: e.options.retryAfterMs });
      assert.deepEqual(pick(viaOurs.err), pick(viaSdk.err));
    });
  }

  it('names an answer that is not JSON', async () => {
    const { viaOurs } = await both({ status: 200, body: 'not json at all' });
    assert.ok('err' in viaOurs);
    assert.equal(viaOurs.err.kind, 'server');
    assert.match(viaOurs.err.message, /not a JSON object: not json at all/);
  });
});

describe('retry policy', () => {
  it('backs off exponentially with jitter, capped, and never below Retry-After', () => {
    const policy = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(backoffDelay(0, policy, undefined, () => 1), 100);
    assert.equal(backoffDelay(0, policy, undefined, () => 0), 50);
    assert.equal(backoffDelay(3, policy, undefined, () => 1), 800);
    assert.equal(backoffDelay(10, policy, undefined, () => 1), 1000);
    assert.equal(backoffDelay(0, policy, 700, () => 1), 700);
    assert.equal(backoffDelay(0, policy, 5000, () => 1), 5000, 'a server asking for longer than our cap is obeyed');
  });

  it('parses Retry-After as milliseconds, seconds or an HTTP date', () => {
    const h = (o: Record<string, string>) => ({ get: (n: string) => o[n] ?? null });
    assert.equal(parseRetryAfter(h({ 'retry-after-ms': '250' })), 250);
    assert.equal(parseRetryAfter(h({ 'retry-after': '2' })), 2000);
    assert.equal(parseRetryAfter(h({ 'retry-after': new Date(10_000).toUTCString() }), 7_000), 3000);
    assert.equal(parseRetryAfter(h({ 'retry-after': 'soon' })), undefined);
    assert.equal(parseRetryAfter(h({})), undefined);
  });
});
