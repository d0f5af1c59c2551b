import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { assertionFromShorthand, assertionTypeNames, formatDiagnostic, loadProject, mapProvider } from '../../src/core';
import { startFakeOpenAI } from '../support/fake-openai';
import { removeDir } from '../support/tmp';
import { cli } from '../support/cli';

const FIXTURE = path.resolve(__dirname, '../fixtures/promptfoo');

/** A fresh copy of the fixture, optionally edited, in a temporary folder. */
async function copy(edit?: (config: string) => string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-pf-'));
  await fs.cp(FIXTURE, dir, { recursive: true });
  if (edit) {
    const file = path.join(dir, 'promptfooconfig.yaml');
    await fs.writeFile(file, edit(await fs.readFile(file, 'utf8')));
  }
  return dir;
}

describe('promptfoo configurations, read unchanged', () => {
  let dir: string;
  afterEach(() => removeDir(dir));

  it('prompts × providers become prompts with one suite each; tests become cases with stable ids', async () => {
    dir = await copy();
    const project = await loadProject({ root: dir, paths: [dir] });
    assert.deepEqual(project.diagnostics, []);
    assert.equal(project.maxConcurrency, 2, 'evaluateOptions.maxConcurrency caps the run');
    assert.deepEqual(project.suites.map((s) => s.name), [
      'prompt-1@openai-chat-gpt-4o-mini', 'prompt-1@big',
      'prompts-triage.txt-1@openai-chat-gpt-4o-mini', 'prompts-triage.txt-1@big',
      'prompts-triage.txt-2@openai-chat-gpt-4o-mini', 'prompts-triage.txt-2@big',
      'chat@openai-chat-gpt-4o-mini', 'chat@big',
    ]);
    const suite = project.suites[1];
    assert.deepEqual(suite.cases.map((c) => c.id), [
      'promptfooconfig.yaml::prompt-1@big::refund-request',
      'promptfooconfig.yaml::prompt-1@big::test-2',
      'promptfooconfig.yaml::prompt-1@big::parcel-question',
      'promptfooconfig.yaml::prompt-1@big::password-reset',
    ]);
    const [refund, fileVar, csv, yamlTest] = suite.cases;
    // Provider config and evaluateOptions.repeat.
    assert.equal(refund.request.model, 'gpt-4o');
    assert.equal(refund.request.temperature, 0);
    assert.equal(refund.request.max_tokens, 50);
    assert.equal(refund.samples, 2);
    // defaultTest vars under the test's, its assertions first; $ref, weight, metric, threshold.
    assert.equal(refund.request.messages[0].content, 'Classify this message for billing: I want a refund');
    assert.deepEqual(refund.assertions.map((a) => [a.type, a.value, a.weight, a.metric ?? null]), [['icontains', 'I want a refund', 1, null], ['starts-with', 'echo:', 1, null], ['not-contains', 'sorry', 2, 'politeness']]);
    assert.equal(refund.threshold, 0.5);
    // file:// variables, metadata as tags.
    assert.equal(fileVar.vars.message, 'My card was charged twice');
    assert.deepEqual(fileVar.tags, ['kind:file-var']);
    // CSV: __expected shorthands, __description, __metadata:*.
    assert.equal(csv.name, 'parcel question');
    assert.deepEqual(csv.assertions.map((a) => [a.type, a.value]), [['icontains', 'Where is my parcel, please?'], ['icontains', 'parcel'], ['not-contains-any', ['sorry', 'apolog']]]);
    assert.deepEqual(csv.tags, ['topic:shipping']);
    assert.equal(yamlTest.file, path.join(dir, 'tests/more.yaml'));
    // Transforms: on an assertion, and a test's options.transform on each of its assertions.
    assert.equal(refund.assertions[2].transformSource, 'output.toLowerCase()');
    assert.deepEqual(yamlTest.assertions.map((a) => [a.type, a.value, a.transformSource ?? null]), [['icontains', 'I forgot my password', null], ['contains', 'PASSWORD', 'output.toUpperCase()']]);
    // Text prompt files split on ---, JSON chat prompts keep their roles.
    assert.equal(project.suites[4].cases[0].request.messages[0].content, 'Which team handles this? I want a refund');
    assert.deepEqual(project.suites[6].cases[0].request.messages.map((m) => m.role), ['system', 'user']);
  });

  it('one-line assertions as promptfoo writes them in CSV', () => {
    const types = assertionTypeNames();
    const s = (t: string) => {
      const a = assertionFromShorthand(t, types);
      return [a.type, a.value, a.threshold];
    };
    assert.deepEqual(s('contains:refund'), ['contains', 'refund', undefined]);
    assert.deepEqual(s('not-icontains: sorry '), ['not-icontains', 'sorry', undefined]);
    assert.deepEqual(s('contains-any:a, b,c'), ['contains-any', ['a', 'b', 'c'], undefined]);
    assert.deepEqual(s('similar(0.9):hello there'), ['similar', 'hello there', 0.9]);
    assert.deepEqual(s('similar:hello'), ['similar', 'hello', 0.8]);
    assert.deepEqual(s('is-json'), ['is-json', undefined, undefined]);
    assert.deepEqual(s('grade:is polite'), ['llm-rubric', 'is polite', undefined]);
    assert.deepEqual(s('javascript: output.length < 10'), ['javascript', 'output.length < 10', undefined]);
    assert.deepEqual(s('Paris'), ['equals', 'Paris', undefined]);
    assert.deepEqual(s('unknown-type:x'), ['equals', 'unknown-type:x', undefined]);
  });

  it('maps provider ids and config; other providers are named in the error', () => {
    assert.deepEqual(mapProvider('openai:chat:gpt-4o-mini'), { model: 'gpt-4o-mini', provider: { id: 'openai' }, parameters: { temperature: undefined, maxTokens: undefined, topP: undefined, seed: undefined, stop: undefined, presencePenalty: undefined, frequencyPenalty: undefined }, request: { responseFormat: undefined, jsonSchema: undefined, tools: undefined, toolChoice: undefined }, unsupported: undefined });
    const r = mapProvider('openai:responses:gpt-4.1', { apiBaseUrl: 'http://127.0.0.1:9/v1', temperature: 0.3 });
    assert.ok(!('error' in r) && r.model === 'gpt-4.1' && r.provider.baseURL === 'http://127.0.0.1:9/v1' && r.parameters.temperature === 0.3);
    const bad = mapProvider('anthropic:messages:claude-3');
    assert.ok('error' in bad && bad.error.startsWith("provider 'anthropic:messages:claude-3' is not supported"));
  });

  it('what PromptGate cannot run is a located error that names it', async () => {
    dir = await copy((c) =>
      c
        .replace('  - openai:chat:gpt-4o-mini\n', '  - openai:chat:gpt-4o-mini\n  - anthropic:messages:claude-3\n')
        .replace('        transform: output.toLowerCase()\n', '        transform: output.toLowerCase()\n      - type: rouge-n\n        value: x\n      - type: contains\n        value: y\n        transform: "output.("\n')
        .replace('evaluateOptions:', 'scenarios: []\nevaluateOptions:'),
    );
    const project = await loadProject({ root: dir, paths: [dir] });
    const messages = project.diagnostics.map((d) => formatDiagnostic(d, (f) => path.relative(dir, f)));
    const has = (re: RegExp) => assert.ok(messages.some((m) => re.test(m)), `${re}\n${messages.join('\n')}`);
    has(/^promptfooconfig\.yaml:10:5: provider 'anthropic:messages:claude-3' is not supported/);
    has(/^promptfooconfig\.yaml:\d+:\d+: unknown assertion type 'rouge-n'/);
    has(/^promptfooconfig\.yaml:\d+:\d+: transform: /);
    has(/^promptfooconfig\.yaml:\d+:\d+: 'scenarios' is not supported by PromptGate/);
  });

  it('runs through the CLI against an OpenAI-compatible server, with baselines and a regression after an edit', async () => {
    dir = await copy();
    const server = await startFakeOpenAI({});
    const env = { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-test' };
    try {
      const first = await cli(['test', 'promptfooconfig.yaml'], dir, env);
      assert.equal(first.code, 0, first.stdout + first.stderr);
      assert.equal(server.requests.length, 8 * 4 * 2);
      assert.equal((await cli(['approve'], dir)).code, 0);
      // An edit that drops the message from the first prompt breaks its icontains assertion.
      const file = path.join(dir, 'promptfooconfig.yaml');
      await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('"Classify this message for {{ team }}: {{ message }}"', '"Classify this message for {{ team }}."'));
      const second = await cli(['test', 'promptfooconfig.yaml'], dir, env);
      assert.equal(second.code, 1, second.stdout);
      assert.match(second.stdout, /REGRESSED promptfooconfig\.yaml › prompt-1@big › test 2  promptfooconfig\.yaml:42/);
    } finally {
      await server.close();
    }
  });
});
