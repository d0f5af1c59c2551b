import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { ProviderError, createProvider, parseModelRef, type Provider, type ProviderRequest } from '../../src/core';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { greetPrompt } from '../support/fixtures';
import { cli } from '../support/cli';
import { removeDir } from '../support/tmp';

const request: ProviderRequest = {
  model: 'claude-3-5-haiku-latest',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'hello there' },
  ],
  temperature: 0,
};
const tools: ProviderRequest['tools'] = [{ type: 'function', function: { name: 'lookup_order', description: 'Find an order', parameters: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } } }];

async function failure(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ProviderError, String(err));
    return err;
  }
  assert.fail('expected the call to fail');
}

describe("Anthropic's Messages API (the official SDK against a local fake)", () => {
  let server: FakeAnthropic | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const provider = (extra: Record<string, unknown> = {}, env: Record<string, string> = {}): Provider =>
    createProvider({ id: 'anthropic', timeoutMs: 2000, maxRetries: 2, ...extra }, { env: { ANTHROPIC_API_KEY: 'sk-ant-test-secret-1234', ANTHROPIC_BASE_URL: server!.baseURL, ...env } });

  it('maps the request (system, max_tokens, stop, extra parameters) and the answer (text, usage, model, finish)', async () => {
    server = await startFakeAnthropic({ respond: () => ({ text: 'Hi!', model: 'claude-3-5-haiku-20241022', usage: { input_tokens: 7, output_tokens: 2 } }) });
    const r = await provider().complete({ ...request, stop: 'END', thinking: { type: 'disabled' } }, { sample: 0 });
    assert.deepEqual([r.output, r.finishReason, r.model], ['Hi!', 'stop', 'claude-3-5-haiku-20241022']);
    assert.deepEqual(r.usage, { promptTokens: 7, completionTokens: 2, totalTokens: 9 });
    const { body, headers } = server.requests[0];
    assert.ok(headers['x-api-key'] === 'sk-ant-test-secret-1234' || headers.authorization === 'Bearer sk-ant-test-secret-1234', JSON.stringify(headers));
    assert.equal(body.system, 'Be brief.');
    assert.deepEqual(body.messages, [{ role: 'user', content: 'hello there' }]);
    assert.equal(body.max_tokens, 1024, 'the Messages API needs max_tokens; the default is promptfoo\'s');
    assert.deepEqual(body.stop_sequences, ['END']);
    assert.deepEqual(body.thinking, { type: 'disabled' }, 'parameters PromptGate does not map are sent as written');
    assert.equal(body.temperature, 0);
  });

  it('tool use, whole and streamed: calls with their JSON arguments, finish reason tool_calls', async () => {
    server = await startFakeAnthropic({ respond: () => ({ text: 'Looking.', toolUses: [{ name: 'lookup_order', input: { id: 'A-17' } }] }) });
    for (const stream of [false, true]) {
      const r = await provider({ stream }).complete({ ...request, tools, tool_choice: 'required' }, { sample: 0 });
      assert.deepEqual(r.toolCalls, [{ id: 'toolu_0', name: 'lookup_order', arguments: '{"id":"A-17"}' }], `stream ${stream}`);
      assert.equal(r.finishReason, 'tool_calls');
      assert.equal(r.output, 'Looking.');
    }
    const body = server.requests[0].body;
    assert.deepEqual(body.tools, [{ name: 'lookup_order', description: 'Find an order', input_schema: tools![0].function.parameters }]);
    assert.deepEqual(body.tool_choice, { type: 'any' });
    assert.equal(server.requests[1].body.stream, true);
  });

  it("an agent's conversation goes as tool_use and tool_result blocks (results of one answer together)", async () => {
    server = await startFakeAnthropic({ respond: () => ({ text: 'Both found.' }) });
    const messages: ProviderRequest['messages'] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Find A-17 and B-2' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'lookup_order', arguments: '{"id":"A-17"}' } }, { id: 'toolu_2', type: 'function', function: { name: 'lookup_order', arguments: '{"id":"B-2"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_1', content: '{"status":"shipped"}' },
      { role: 'tool', tool_call_id: 'toolu_2', content: '{"error":"not found"}' },
    ];
    const r = await provider().complete({ ...request, messages, tools }, { sample: 0 });
    assert.equal(r.output, 'Both found.');
    assert.deepEqual(server.requests[0].body.messages, [
      { role: 'user', content: 'Find A-17 and B-2' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup_order', input: { id: 'A-17' } }, { type: 'tool_use', id: 'toolu_2', name: 'lookup_order', input: { id: 'B-2' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '{"status":"shipped"}' }, { type: 'tool_result', tool_use_id: 'toolu_2', content: '{"error":"not found"}' }] },
    ]);
  });

  it('a streamed answer has its usage and text', async () => {
    server = await startFakeAnthropic({ respond: () => ({ text: 'A longer streamed answer.', usage: { input_tokens: 11, output_tokens: 5 } }) });
    const r = await provider({ stream: true }).complete(request, { sample: 0 });
    assert.equal(r.output, 'A longer streamed answer.');
    assert.deepEqual(r.usage, { promptTokens: 11, completionTokens: 5, totalTokens: 16 });
  });

  it('a 429 is retried after Retry-After; overloaded (529) is a server error; an empty balance stops as quota; a bad key is auth', async () => {
    server = await startFakeAnthropic({ fault: (n) => (n === 0 ? { kind: '429', retryAfterSeconds: 0 } : undefined) });
    assert.equal((await provider().complete(request, { sample: 0 })).output, 'claude: hello there');
    assert.equal(server.requests.length, 2);
    await server.close();

    server = await startFakeAnthropic({ fault: () => ({ kind: 'status', status: 529, type: 'overloaded_error', message: 'Overloaded' }) });
    const overloaded = await failure(provider({ maxRetries: 0 }).complete(request, { sample: 0 }));
    assert.equal(overloaded.kind, 'server');
    await server.close();

    server = await startFakeAnthropic({ fault: () => ({ kind: 'status', status: 400, type: 'invalid_request_error', message: 'Your credit balance is too low to access the Anthropic API.' }) });
    assert.equal((await failure(provider().complete(request, { sample: 0 }))).kind, 'quota');
    assert.equal(server.requests.length, 1, 'out of credit is not retried');
    await server.close();

    server = await startFakeAnthropic({ fault: () => ({ kind: 'status', status: 401, type: 'authentication_error', message: 'invalid x-api-key sk-ant-test-secret-1234' }) });
    const auth = await failure(provider().complete(request, { sample: 0 }));
    assert.equal(auth.kind, 'auth');
    assert.ok(!auth.message.includes('sk-ant-test-secret-1234') && auth.message.includes('[redacted key]'), auth.message);
  });

  it('a stream that stalls ends at the deadline with the reason', async () => {
    server = await startFakeAnthropic({ fault: () => ({ kind: 'stall' }) });
    const e = await failure(provider({ stream: true, timeoutMs: 400, maxRetries: 0 }).complete(request, { sample: 0 }));
    assert.equal(e.kind, 'timeout');
    assert.match(e.message, /stalled|no complete answer/);
  });

  it('without ANTHROPIC_API_KEY the run is refused before any call, naming the variable', () => {
    assert.throws(() => createProvider({ id: 'anthropic' }, { env: {} }), /ANTHROPIC_API_KEY is not set/);
  });
});

describe('Azure OpenAI, Gemini and Ollama (OpenAI-compatible, against the local fake)', () => {
  let server: FakeOpenAI | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const root = () => server!.baseURL.replace(/\/v1$/, '');
  const ask: ProviderRequest = { model: 'my-deployment', messages: [{ role: 'user', content: 'hi' }] };

  it('Azure: the deployment in the path, the API version as a query, the key as api-key; whole and streamed', async () => {
    server = await startFakeOpenAI({});
    for (const stream of [false, true]) {
      const p = createProvider({ id: 'azure', baseURL: root(), stream, maxRetries: 0 }, { env: { AZURE_OPENAI_API_KEY: 'azure-key-123456' } });
      assert.equal((await p.complete(ask, { sample: 0 })).output, 'echo: hi');
    }
    for (const r of server.requests) {
      assert.equal(r.url, '/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21');
      assert.equal(r.headers['api-key'], 'azure-key-123456');
    }
  });

  it('Azure with an Entra ID token and an apiVersion from the file', async () => {
    server = await startFakeOpenAI({});
    const p = createProvider({ id: 'azure', baseURL: root(), apiVersion: '2025-01-01-preview', maxRetries: 0 }, { env: { AZURE_OPENAI_AD_TOKEN: 'entra-token-abcdef' } });
    await p.complete(ask, { sample: 0 });
    assert.equal(server.requests[0].authorization, 'Bearer entra-token-abcdef');
    assert.match(server.requests[0].url, /api-version=2025-01-01-preview$/);
    assert.throws(() => createProvider({ id: 'azure', baseURL: root() }, { env: {} }), /AZURE_OPENAI_API_KEY or AZURE_API_KEY \(or an Entra ID token in AZURE_OPENAI_AD_TOKEN\) is not set/);
    assert.throws(() => createProvider({ id: 'azure' }, { env: { AZURE_OPENAI_API_KEY: 'k' } }), /AZURE_OPENAI_ENDPOINT/);
  });

  it('Gemini takes GEMINI_API_KEY (or GOOGLE_API_KEY); Ollama needs no key and finds the server from OLLAMA_BASE_URL', async () => {
    server = await startFakeOpenAI({});
    await createProvider({ id: 'gemini' }, { env: { GOOGLE_API_KEY: 'google-key-123456', GEMINI_BASE_URL: server.baseURL } }).complete({ ...ask, model: 'gemini-2.0-flash' }, { sample: 0 });
    assert.equal(server.requests[0].authorization, 'Bearer google-key-123456');
    await createProvider({ id: 'ollama' }, { env: { OLLAMA_BASE_URL: root() } }).complete({ ...ask, model: 'llama3.2' }, { sample: 0 });
    assert.equal(server.requests[1].url, '/v1/chat/completions');
    assert.throws(() => createProvider({ id: 'gemini' }, { env: {} }), /GEMINI_API_KEY or GOOGLE_API_KEY is not set/);
  });

  it('model references read the same everywhere', () => {
    assert.deepEqual(parseModelRef('anthropic:messages:claude-sonnet-4-5'), { provider: 'anthropic', model: 'claude-sonnet-4-5', api: 'messages' });
    assert.deepEqual(parseModelRef('anthropic:claude-3-haiku'), { provider: 'anthropic', model: 'claude-3-haiku' });
    assert.deepEqual(parseModelRef('azureopenai:chat:dep'), { provider: 'azure', model: 'dep', api: 'chat' });
    assert.deepEqual(parseModelRef('openai/gpt-4o-mini'), { model: 'openai/gpt-4o-mini' });
    assert.deepEqual(parseModelRef('llama3:8b'), { model: 'llama3:8b' }, 'a bare Ollama tag is a model name');
    assert.ok('unsupported' in parseModelRef('bedrock:anthropic.claude-v2'));
  });
});

describe('other providers end to end: promptfoo ids, prompt files and --model', () => {
  let dir: string;
  let anthropic: FakeAnthropic | undefined;
  let openai: FakeOpenAI | undefined;
  afterEach(async () => {
    await anthropic?.close();
    await openai?.close();
    anthropic = openai = undefined;
    await removeDir(dir);
  });

  it('a promptfoo config over Anthropic, Azure and Ollama runs each against its own API; a key the model repeats is redacted', async () => {
    anthropic = await startFakeAnthropic({ respond: (b) => ({ text: `claude: ${b.messages[0].content} (key sk-ant-test-secret-1234)` }) });
    openai = await startFakeOpenAI({});
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-providers-'));
    await fs.writeFile(
      path.join(dir, 'promptfooconfig.yaml'),
      `prompts: ["Say hi to {{ name }}"]
providers:
  - anthropic:messages:claude-3-5-haiku-latest
  - azure:chat:my-deployment
  - ollama:chat:llama3.2
tests:
  - vars: { name: Ann }
    assert: [{ type: icontains, value: ann }]
`,
    );
    const env = { ANTHROPIC_API_KEY: 'sk-ant-test-secret-1234', ANTHROPIC_BASE_URL: anthropic.baseURL, AZURE_OPENAI_ENDPOINT: openai.baseURL.replace(/\/v1$/, ''), AZURE_OPENAI_API_KEY: 'azure-key-123456', OLLAMA_BASE_URL: openai.baseURL.replace(/\/v1$/, '') };
    const run = await cli(['test', '.', '--json', 'r.json'], dir, env);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(anthropic.requests.length, 1);
    assert.deepEqual(openai.requests.map((r) => r.url).sort(), ['/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21', '/v1/chat/completions']);
    const report = await fs.readFile(path.join(dir, 'r.json'), 'utf8');
    assert.ok(!report.includes('sk-ant-test-secret-1234') && report.includes('[redacted key]'));
  });

  it('a prompt file names the provider in its model; --model swaps to another provider', async () => {
    anthropic = await startFakeAnthropic({});
    openai = await startFakeOpenAI({});
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-providers-'));
    await fs.writeFile(path.join(dir, 'greet.prompt.yml'), greetPrompt().replace('model: gpt-4o-mini', 'model: anthropic:messages:claude-3-5-haiku-latest'));
    const env = { ANTHROPIC_API_KEY: 'sk-ant-test-secret-1234', ANTHROPIC_BASE_URL: anthropic.baseURL, OPENAI_BASE_URL: openai.baseURL, OPENAI_API_KEY: 'sk-test' };
    const run = await cli(['test', 'greet.prompt.yml', '--reporter', 'json'], dir, env);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(anthropic.requests.length, 2);
    assert.equal(anthropic.requests[0].body.model, 'claude-3-5-haiku-latest');
    assert.equal(openai.requests.length, 0);
    // --model moves the same cases to OpenAI (its own endpoint and key, not Anthropic's).
    const swapped = await cli(['test', 'greet.prompt.yml', '--model', 'openai:chat:gpt-4o-mini', '--reporter', 'json'], dir, env);
    assert.equal(swapped.code, 0, swapped.stdout + swapped.stderr);
    assert.deepEqual(openai.requests.map((r) => r.body.model), ['gpt-4o-mini', 'gpt-4o-mini']);
    const refused = await cli(['test', 'greet.prompt.yml', '--model', 'bedrock:anthropic.claude-v2'], dir, env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /provider 'bedrock:anthropic\.claude-v2' is not supported/);
  });
});
