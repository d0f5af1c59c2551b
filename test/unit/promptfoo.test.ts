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
    // Transforms: on an assertion, and a test's options.transform on each of its assertions (defaultTest's included, as in promptfoo).
    assert.equal(refund.assertions[2].transformSource, 'output.toLowerCase()');
    assert.deepEqual(yamlTest.assertions.map((a) => [a.type, a.value, a.transformSource ?? null]), [['icontains', 'I forgot my password', 'output.toUpperCase()'], ['contains', 'PASSWORD', 'output.toUpperCase()']]);
    // Text prompt files split on ---, JSON chat prompts keep their roles.
    assert.equal(project.suites[4].cases[0].request.messages[0].content, 'Which team handles this? I want a refund');
    assert.deepEqual(project.suites[6].cases[0].request.messages.map((m) => m.role), ['system', 'user']);
  });

  it('one-line assertions as promptfoo writes them in CSV', () => {
    const types = assertionTypeNames();
    const s = (t: string) => {
      const a = assertionFromShorthand(t, types);
      return 'unsupported' in a ? ['skipped', a.unsupported] : [a.type, a.value, a.threshold];
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
    // promptfoo types PromptGate lacks are skipped with the reason, never read as an equals.
    assert.deepEqual(s('rouge-n(0.7):hello'), ['skipped', "assertion 'rouge-n' is not run by PromptGate"]);
    assert.deepEqual(s('python:file://check.py'), ['python', 'file://check.py', undefined]);
    assert.deepEqual(s('file://check.js'), ['skipped', "'file://check.js': file assertions are not run by PromptGate"]);
  });

  it('maps provider ids and config onto PromptGate providers; other providers are unsupported, with the reason', () => {
    const plain = mapProvider('openai:chat:gpt-4o-mini');
    assert.ok(!('unsupported' in plain));
    assert.deepEqual([plain.model, plain.provider], ['gpt-4o-mini', { id: 'openai' }]);
    const r = mapProvider('openai:responses:gpt-4.1', { apiBaseUrl: 'http://127.0.0.1:9/v1', temperature: 0.3, reasoning_effort: 'low', max_completion_tokens: 200 });
    assert.ok(!('unsupported' in r));
    assert.deepEqual([r.model, r.provider.baseURL, r.parameters.temperature], ['gpt-4.1', 'http://127.0.0.1:9/v1', 0.3]);
    // Keys PromptGate does not map are sent as written; max_completion_tokens stays itself.
    assert.deepEqual(r.parameters.extra, { reasoning_effort: 'low', max_completion_tokens: 200 });
    assert.equal(r.parameters.maxTokens, undefined);
    const ids = (id: string) => {
      const m = mapProvider(id, { apiHost: 'x.openai.azure.com' });
      return 'unsupported' in m ? m.unsupported : `${m.provider.id} ${m.model}${m.provider.baseURL ? ` ${m.provider.baseURL}` : ''}`;
    };
    assert.equal(ids('anthropic:messages:claude-3-5-haiku-latest'), 'anthropic claude-3-5-haiku-latest https://x.openai.azure.com/v1');
    assert.equal(ids('azure:chat:my-deployment'), 'azure my-deployment https://x.openai.azure.com');
    assert.equal(ids('google:gemini-2.0-flash'), 'gemini gemini-2.0-flash https://x.openai.azure.com/v1');
    assert.equal(ids('ollama:chat:llama3.2:3b'), 'ollama llama3.2:3b https://x.openai.azure.com/v1');
    assert.match(ids('replicate:meta/llama-3-8b'), /^provider 'replicate:meta\/llama-3-8b' is not supported: PromptGate calls openai:, anthropic:/);
    assert.match(ids('openai:completion:gpt-3.5-turbo-instruct'), /the OpenAI completion API is not run by PromptGate/);
    assert.match(ids('file://provider.js'), /is not supported/);
  });

  it('what PromptGate does not run skips the cases that use it, with the reason where it is written; the rest loads', async () => {
    dir = await copy((c) =>
      c
        .replace('  - openai:chat:gpt-4o-mini\n', '  - openai:chat:gpt-4o-mini\n  - replicate:meta/llama-3-8b\n')
        .replace('        transform: output.toLowerCase()\n', '        transform: output.toLowerCase()\n      - type: rouge-n\n        value: x\n')
        .replace('evaluateOptions:', 'redteam:\n  plugins: [pii]\nevaluateOptions:'),
    );
    const project = await loadProject({ root: dir, paths: [dir] });
    const messages = project.diagnostics.map((d) => formatDiagnostic(d, (f) => path.relative(dir, f)));
    assert.ok(project.diagnostics.every((d) => d.severity === 'warning'), messages.join('\n'));
    const has = (re: RegExp) => assert.ok(messages.some((m) => re.test(m)), `${re}\n${messages.join('\n')}`);
    has(/^promptfooconfig\.yaml:10:5: warning: provider 'replicate:meta\/llama-3-8b' is not supported: .*; the cases that use it are skipped$/);
    has(/^promptfooconfig\.yaml:44:15: warning: assertion 'rouge-n' is not run by PromptGate; the cases that use it are skipped$/);
    has(/^promptfooconfig\.yaml:29:3: warning: 'redteam': promptfoo's red team is not run/);
    // Every case is listed; those that use what PromptGate lacks carry the reason and its place.
    const skipped = project.cases.filter((k) => k.skip);
    assert.equal(project.cases.length, 4 * 3 * 4);
    assert.equal(skipped.filter((k) => k.suite.endsWith('@replicate-meta-llama-3-8b')).length, 4 * 4);
    const refund = project.cases.find((k) => k.id === 'promptfooconfig.yaml::prompt-1@big::refund-request')!;
    assert.deepEqual(refund.skip, { reason: "assertion 'rouge-n' is not run by PromptGate", where: 'promptfooconfig.yaml:44:15' });
    assert.equal(project.cases.find((k) => k.id === 'promptfooconfig.yaml::prompt-1@big::test-2')!.skip, undefined);
  });

  it('reads what real configs use: list variables per combination, scenarios, assert-set, prompt config, empty undefined variables, load', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-pf-'));
    await fs.writeFile(
      path.join(dir, 'promptfooconfig.yaml'),
      `prompts:
  - raw: "Translate {{ text }} into {{ language }}.{{ missing }} Data: {{ (data | load).a }}"
    label: translate
    config: { temperature: 0.7 }
providers:
  - id: openai:chat:gpt-4.1-mini
    config: { temperature: 0, reasoning_effort: low }
tests:
  - vars: { text: [hello, bye], language: [French, German, Dutch], data: '{"a": 1}' }
    assert:
      - type: assert-set
        metric: set
        assert: [{ type: contains, value: "{{ language }}" }, { type: icontains, value: "{{ text }}" }]
  - vars: { text: [hi], language: French, data: '{"a": 2}' }
    options: { disableVarExpansion: true }
scenarios:
  - description: greetings
    config: [{ vars: { language: Spanish } }, { vars: { language: Italian } }]
    tests: [{ vars: { text: ciao, data: '{}' }, assert: [{ type: contains, value: ciao }] }]
`,
    );
    const project = await loadProject({ root: dir, paths: [dir] });
    assert.deepEqual(project.diagnostics, []);
    const cases = project.cases;
    assert.equal(cases.length, 6 + 1 + 2, 'two texts × three languages, one test kept whole, two scenario entries');
    assert.equal(cases[0].request.messages[0].content, 'Translate hello into French. Data: 1');
    assert.equal(cases[5].request.messages[0].content, 'Translate bye into Dutch. Data: 1');
    assert.equal(cases[0].name, 'test 1 [hello, French]');
    assert.deepEqual(cases[0].assertions.map((a) => [a.type, a.value, a.metric]), [['contains', 'French', 'set'], ['icontains', 'hello', 'set']]);
    assert.equal(cases[6].request.messages[0].content, 'Translate hi into French. Data: 2', 'disableVarExpansion keeps a list as one value');
    assert.deepEqual(cases.slice(7).map((k) => k.request.messages[0].content), ['Translate ciao into Spanish. Data: ', 'Translate ciao into Italian. Data: ']);
    // The prompt's config goes over the provider's; keys PromptGate does not map are sent as written.
    assert.equal(cases[0].request.temperature, 0.7);
    assert.equal(cases[0].request.reasoning_effort, 'low');
  });

  it('prompts as a {file: label} mapping, a provider limited to some prompts, and a test without the default assertions', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-pf-'));
    await fs.writeFile(path.join(dir, 'short.txt'), 'Briefly: {{ q }}');
    await fs.writeFile(path.join(dir, 'long.txt'), 'At length: {{ q }}');
    await fs.writeFile(
      path.join(dir, 'promptfooconfig.yaml'),
      `prompts:
  file://short.txt: short
  file://long.txt: long
providers:
  - id: openai:gpt-4o-mini
    prompts: [short]
  - id: openai:gpt-4o
defaultTest:
  assert: [{ type: contains, value: "{{ q }}" }]
tests:
  - vars: { q: why }
  - vars: { q: how }
    type: conversation
    options: { disableDefaultAsserts: true }
    assert: [{ type: icontains, value: HOW }]
`,
    );
    const project = await loadProject({ root: dir, paths: [dir] });
    // A test field promptfoo does not know (here `type`) is ignored, as promptfoo ignores it: a warning, and the test runs.
    assert.deepEqual(project.diagnostics.map((d) => `${d.severity}: ${d.range?.start.line}: ${d.message}`), ["warning: 12: test field 'type' is not one promptfoo reads; it is ignored, as promptfoo ignores it"]);
    assert.deepEqual(project.suites.map((s) => s.name), ['short@openai-gpt-4o-mini', 'short@openai-gpt-4o', 'long@openai-gpt-4o'], 'gpt-4o-mini runs only the short prompt');
    const [why, how] = project.suites[2].cases;
    assert.equal(why.request.messages[0].content, 'At length: why');
    assert.deepEqual(why.assertions.map((a) => a.type), ['contains']);
    assert.deepEqual(how.assertions.map((a) => a.type), ['icontains'], 'disableDefaultAsserts leaves out defaultTest\'s');
  });

  it('a broken file is still a located error', async () => {
    dir = await copy((c) => c.replace('        transform: output.toLowerCase()\n', '        transform: output.toLowerCase()\n      - type: contians\n        value: y\n      - type: contains\n        value: y\n        transform: "output.("\n'));
    const project = await loadProject({ root: dir, paths: [dir] });
    const messages = project.diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d, (f) => path.relative(dir, f)));
    const has = (re: RegExp) => assert.ok(messages.some((m) => re.test(m)), `${re}\n${messages.join('\n')}`);
    has(/^promptfooconfig\.yaml:\d+:\d+: unknown assertion type 'contians' \(did you mean 'contains'\?\)/);
    has(/^promptfooconfig\.yaml:\d+:\d+: transform: /);
  });

  it('runs what it can through the CLI and reports the skipped cases with their reason; the exit code reflects what ran', async () => {
    dir = await copy((c) => c.replace('  - openai:chat:gpt-4o-mini\n', '  - openai:chat:gpt-4o-mini\n  - replicate:meta/llama-3-8b\n'));
    const server = await startFakeOpenAI({});
    const env = { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-test' };
    try {
      const run = await cli(['test', 'promptfooconfig.yaml', '--json', 'r.json'], dir, env);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(server.requests.length, 8 * 4 * 2, 'the skipped provider is never called');
      assert.match(run.stderr, /promptfooconfig\.yaml:10:5: warning: provider 'replicate:meta\/llama-3-8b' is not supported/);
      assert.match(run.stdout, /16 cases skipped: they use what PromptGate does not run\n\s+16 × provider 'replicate:meta\/llama-3-8b' is not supported: [^\n]*\(promptfooconfig\.yaml:10:5\)/);
      const report = JSON.parse(await fs.readFile(path.join(dir, 'r.json'), 'utf8'));
      const skipped = report.cases.filter((k: { verdict: { kind: string } }) => k.verdict.kind === 'skipped');
      assert.equal(skipped.length, 16);
      assert.match(skipped[0].unsupported.reason, /^provider 'replicate:meta\/llama-3-8b' is not supported: /);
      assert.equal(skipped[0].unsupported.where, 'promptfooconfig.yaml:10:5');
    } finally {
      await server.close();
    }
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
