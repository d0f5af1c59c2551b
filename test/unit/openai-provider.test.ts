import { strict as assert } from 'node:assert';
import { OpenAIProvider, ProviderError, backoffDelay, createProvider, parseRetryAfter, type ProviderRequest } from '../../src/core';
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
    assert.deepEqual(JSON.parse(r.output), [{ name: 'get_weather', arguments: '{"city":"Oslo"}' }]);
  });

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
