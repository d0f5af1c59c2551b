import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { startFakeOpenAI, type ChatBody, type Reply } from '../support/fake-openai';
import { removeDir } from '../support/tmp';
import { cli } from '../support/cli';

type Report = { cases: { id: string; name: string; verdict: { kind: string; passing: boolean } }[]; results: { caseId: string; assertions: { type: string; pass: boolean; reason: string }[] }[] };
/** The first sample's assertion results of a case. */
const checks = (report: Report, caseId: string) => report.results.find((r) => r.caseId === caseId)!.assertions;

const isJudge = (body: ChatBody) => JSON.stringify(body.response_format ?? '').includes('judge_verdict');
const text = (body: ChatBody) => body.messages.map((m) => String(m.content)).join('\n');

/** What promptfoo configs ask of judges and tool-calling models, run through the built CLI against a local model. */
describe('promptfoo graders and tool outputs, as promptfoo runs them', function () {
  this.timeout(120_000);
  let dir: string;
  afterEach(() => removeDir(dir));

  async function run(config: string, respond: (body: ChatBody) => Reply, opts: { args?: string[]; env?: Record<string, string>; files?: Record<string, string> } = {}): Promise<{ report: Report; judged: ChatBody[]; code: number | null; out: string }> {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-pfg-'));
    await fs.writeFile(path.join(dir, 'promptfooconfig.yaml'), config);
    for (const [name, content] of Object.entries(opts.files ?? {})) await fs.writeFile(path.join(dir, name), content);
    const server = await startFakeOpenAI({ respond });
    try {
      const r = await cli(['test', 'promptfooconfig.yaml', '--json', 'r.json', ...(opts.args ?? [])], dir, { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-test', ...opts.env });
      const report = JSON.parse(await fs.readFile(path.join(dir, 'r.json'), 'utf8')) as Report;
      return { report, judged: server.requests.map((q) => q.body).filter(isJudge), code: r.code, out: r.stdout + r.stderr };
    } finally {
      await server.close();
    }
  }
  const verdict = (pass: boolean, score: number) => ({ content: JSON.stringify({ reason: `graded ${score}`, pass, score }) });

  it('rubricPrompt: the judge gets the test\'s own messages, rendered with the variables, the output and the rubric; llm-rubric needs no value then', async () => {
    const { report, judged, code, out } = await run(
      `prompts: ["Talk about {{ topic }}"]
providers: [openai:gpt-4o-mini]
defaultTest:
  options:
    rubricPrompt:
      - role: system
        content: "Score a mention of {{ x }}. Rubric: {{ rubric }}"
      - role: user
        content: "Output: {{ output }}"
tests:
  - vars: { topic: the economy, x: the Federal Reserve }
    assert:
      - type: llm-rubric
  - vars: { topic: rates, x: inflation }
    assert:
      - type: llm-rubric
        value: mentions {{ x }}
        rubricPrompt: '[{"role": "user", "content": "Own prompt for {{ topic }}: {{ output }} / {{ rubric }}"}]'
`,
      (body) => (isJudge(body) ? verdict(!text(body).includes('rates'), 0.9) : { content: `echo: ${text(body)}` }),
    );
    assert.equal(code, 1, out);
    assert.equal(judged.length, 2);
    const first = judged.find((b) => text(b).includes('Federal'))!;
    assert.deepEqual(first.messages, [
      { role: 'system', content: 'Score a mention of the Federal Reserve. Rubric: ' },
      { role: 'user', content: 'Output: echo: Talk about the economy' },
    ]);
    const second = judged.find((b) => text(b).includes('Own prompt'))!;
    assert.deepEqual(second.messages, [{ role: 'user', content: 'Own prompt for rates: echo: Talk about rates / mentions inflation' }]);
    assert.deepEqual(report.cases.map((c) => c.verdict.passing), [true, false]);
  });

  it('context-faithfulness, context-recall and context-relevance grade with the context variable; without it they fail with the reason', async () => {
    const { report, judged } = await run(
      `prompts: ["Answer {{ query }} using {{ context }}"]
providers: [openai:gpt-4o-mini]
evaluateOptions: { repeat: 1 }
tests:
  - vars: { query: What is the leave policy?, context: [Parents get 4 months paid leave., Offices close at 6.] }
    options: { disableVarExpansion: true }
    assert:
      - type: context-faithfulness
        threshold: 0.8
      - type: context-recall
        value: 4 months paid leave
      - type: context-relevance
        threshold: 0.4
  - vars: { query: What is the leave policy? }
    assert:
      - type: context-recall
        value: 4 months
`,
      (body) => (isJudge(body) ? verdict(true, text(body).includes('Which sentences') ? 0.5 : 0.9) : { content: `echo: ${text(body)}` }),
    );
    assert.equal(judged.length, 3, 'the case without a context asks no judge');
    assert.ok(judged.every((b) => text(b).includes('Parents get 4 months paid leave.\n\nOffices close at 6.')), 'the passages are the context');
    assert.ok(judged.some((b) => text(b).includes('<expected>\n4 months paid leave')));
    const [withContext, without] = report.cases;
    assert.deepEqual(checks(report, withContext.id).map((a) => [a.type, a.pass]), [['context-faithfulness', true], ['context-recall', true], ['context-relevance', true]]);
    assert.equal(without.verdict.passing, false);
    assert.match(checks(report, without.id)[0].reason, /needs the case's `context` variable/);
  });

  it("a tool-calling answer is OpenAI's tool_calls list to scripts and transforms; a legacy function call is its object", async () => {
    const weather = { name: 'get_current_weather', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } };
    const { report, code, out } = await run(
      `prompts: ["Weather in {{ city }}?"]
providers:
  - id: openai:chat:gpt-4.1-mini
    label: tools
    config:
      tools: [{ type: function, function: ${JSON.stringify(weather)} }]
  - id: openai:chat:gpt-4.1-mini
    label: functions
    config:
      functions: [${JSON.stringify(weather)}]
tests:
  - vars: { city: Boston }
    assert:
      - type: javascript
        value: "Array.isArray(output) ? output[0].function.name === 'get_current_weather' && output[0].type === 'function' : output.name === 'get_current_weather'"
      - type: equals
        value: Boston, MA
        transform: "JSON.parse((Array.isArray(output) ? output[0].function : output).arguments).location"
  - vars: { city: Oslo }
    providers: [functions]
    assert:
      - type: is-valid-openai-function-call
`,
      (body) => {
        const city = text(body).includes('Boston') ? 'Boston, MA' : 7; // Oslo's call breaks the schema
        if (body.tools) return { content: null, toolCalls: [{ name: 'get_current_weather', arguments: JSON.stringify({ location: city }) }] };
        return { content: null, functionCall: { name: 'get_current_weather', arguments: JSON.stringify({ location: city }) } };
      },
    );
    assert.equal(code, 1, out);
    const byName = Object.fromEntries(report.cases.map((c) => [c.name, c]));
    assert.equal(report.cases.length, 3, out);
    assert.ok(report.cases.slice(0, 2).every((c) => c.verdict.passing), JSON.stringify(report.results));
    const oslo = Object.values(byName).find((c) => !c.verdict.passing)!;
    assert.match(checks(report, oslo.id)[0].reason, /arguments of 'get_current_weather' do not match its schema/);
  });

  const PYTHON_CONFIG = `prompts: ["Say {{ word }}"]
providers: [openai:gpt-4o-mini]
tests:
  - description: expression
    vars: { word: hello }
    assert:
      - type: python
        value: "'hello' in output and context['vars']['word'] == 'hello'"
  - description: body returning a result
    vars: { word: bye }
    assert:
      - type: python
        value: |
          n = len(output.split())
          return {'pass': n == 3, 'score': n / 10, 'reason': 'words: %d' % n}
  - description: function in a file
    vars: { word: "x" }
    assert:
      - type: python
        value: file://checks.py:short
      - type: python
        value: file://checks.py
  - description: a check that raises
    vars: { word: y }
    assert:
      - type: python
        value: "1 / 0"
`;
  const CHECKS = 'def short(output, context):\n    return len(output) < 20\n\ndef get_assert(output, context):\n    return 0.75 if output.endswith("x") else 0\n';
  const python3 = spawnSync('python3', ['--version']).status === 0;

  it('python assertions run with --allow-python (expressions, bodies, file functions; results as promptfoo reads them); a raise fails with its error', async function () {
    if (!python3) this.skip();
    const { report, code, out } = await run(PYTHON_CONFIG, (b) => ({ content: `echo: ${text(b)}` }), { args: ['--allow-python'], files: { 'checks.py': CHECKS } });
    assert.equal(code, 1, out);
    const by = (d: string) => report.cases.find((c) => c.name === d)!;
    assert.equal(by('expression').verdict.passing, true, JSON.stringify(checks(report, by('expression').id)));
    assert.equal(by('body returning a result').verdict.passing, true);
    assert.match(checks(report, by('body returning a result').id)[0].reason, /^words: 3$/);
    assert.deepEqual(checks(report, by('function in a file').id).map((a) => a.pass), [true, true]);
    assert.equal(by('a check that raises').verdict.passing, false);
    assert.match(checks(report, by('a check that raises').id)[0].reason, /ZeroDivisionError: division by zero/);
  });

  it('without --allow-python, or without python3, the cases that use python are skipped with the reason; the rest run', async () => {
    const denied = await run(PYTHON_CONFIG, (b) => ({ content: `echo: ${text(b)}` }), { files: { 'checks.py': CHECKS } });
    assert.equal(denied.code, 0, denied.out);
    assert.deepEqual(denied.report.cases.map((c) => c.verdict.kind), ['skipped', 'skipped', 'skipped', 'skipped']);
    assert.equal(denied.out.match(/1 × python assertions run code with your permissions: PromptGate runs them only when allowed \(promptgate test --allow-python/g)?.length, 4, denied.out);
    await removeDir(dir);
    // A PATH with node and nothing else: no python3.
    const bin = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-bin-'));
    await fs.symlink(process.execPath, path.join(bin, 'node'));
    try {
      const absent = await run(PYTHON_CONFIG, (b) => ({ content: `echo: ${text(b)}` }), { args: ['--allow-python'], env: { PATH: bin }, files: { 'checks.py': CHECKS } });
      assert.equal(absent.code, 0, absent.out);
      assert.equal(absent.out.match(/1 × python assertions need python3, which is not on the PATH/g)?.length, 4, absent.out);
    } finally {
      await removeDir(bin);
    }
  });

  it('a python check that never ends fails with the time limit, and the run goes on', async function () {
    if (!python3) this.skip();
    const { report, out } = await run(
      `prompts: ["Say {{ word }}"]
providers: [openai:gpt-4o-mini]
tests:
  - vars: { word: a }
    assert: [{ type: python, value: "while True:\\n    pass" }]
  - vars: { word: b }
    assert: [{ type: contains, value: b }]
`,
      (b) => ({ content: `echo: ${text(b)}` }),
      { args: ['--allow-python'] },
    );
    assert.deepEqual(report.cases.map((c) => c.verdict.passing), [false, true], out);
    assert.match(checks(report, report.cases[0].id)[0].reason, /python took more than 10 s/);
  });

  it("a chat prompt over _conversation runs each conversation as one case: its tests are the turns, each checked on its own answer", async () => {
    const prompt = '[{"role": "system", "content": "{{ system_message }}"},\n{% for completion in _conversation %}\n{"role": "user", "content": "{{ completion.input[completion.input.length - 1].content }}"},\n{"role": "assistant", "content": "{{ completion.output }}"},\n{% endfor %}\n{"role": "user", "content": "{{ question }}"}]';
    const { report, code, out } = await run(
      `prompts: [file://prompt.json]
providers: [openai:gpt-4.1-mini]
defaultTest: { vars: { system_message: Be brief. } }
tests:
  - vars: { question: Who founded Facebook? }
    metadata: { conversationId: fb }
    assert: [{ type: icontains, value: founded }]
  - vars: { question: Where does he live? }
    metadata: { conversationId: fb }
    assert: [{ type: icontains, value: live }, { type: not-icontains, value: founded }]
  - vars: { question: Is it raining? }
    metadata: { conversationId: weather }
`,
      (b) => ({ content: `A${b.messages.length}: ${b.messages.at(-1)!.content}` }),
      { files: { 'prompt.json': prompt }, args: ['--samples', '1'] },
    );
    assert.equal(code, 0, out);
    assert.deepEqual(report.cases.map((c) => c.name), ['test 1 (and 1 more turn)', 'test 3']);
    const fb = report.results.find((r) => r.caseId === report.cases[0].id)! as unknown as { steps: { kind: string; output: string }[]; assertions: { type: string; pass: boolean }[] };
    assert.deepEqual(fb.steps.map((s) => s.output), ['A2: Who founded Facebook?', 'A4: Where does he live?']);
    assert.deepEqual(fb.assertions.map((a) => [a.type, a.pass]), [['icontains', true], ['icontains', true], ['not-icontains', true]]);
  });
});
