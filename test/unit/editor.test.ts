import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { PromptGateExtension } from '../../src/extension/promptgate';
import { fakeVSCode, outline } from '../support/fake-vscode';
import { startFakeOpenAI, echoReply, type FakeOpenAI } from '../support/fake-openai';
import { supportAgent } from '../support/agent-model';
import { removeDir, tmpProject } from '../support/tmp';
import { greetPrompt } from '../support/fixtures';

/* The editor adapter in plain Node, against a fake `vscode`: the test tree, the run handler,
   CodeLens, Problems, approve-then-refresh and settings precedence, in milliseconds. What only a
   real VS Code shows (the workbench, webviews, the .vsix) stays in the code-server suites. */

const GREET = greetPrompt();
const ANN = 'greet.prompt.yml::golden::ann';
const BOB = 'greet.prompt.yml::golden::bob';

describe('editor adapter (plain Node, fake vscode)', function () {
  this.timeout(20000);
  let server: FakeOpenAI;
  let dir: string;
  let fake: ReturnType<typeof fakeVSCode>;
  let ext: PromptGateExtension;

  async function activate(files: Record<string, string>, settings: Record<string, unknown> = {}, answers?: Parameters<typeof fakeVSCode>[0]['answers']) {
    dir = await tmpProject(files);
    fake = fakeVSCode({ root: dir, settings, answers });
    ext = new PromptGateExtension(fake.vscode as never, fake.context as never, { env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.baseURL }, readDisk: (f) => fs.readFile(f, 'utf8') });
    ext.start();
    await ext.refresh();
    return ext.api;
  }

  const TOP_UP = [{ match: /too few samples to be a baseline/, choice: 'Top up and approve' }];

  /** Both cases run, topped up and approved, then the prompt edited so that ann regresses (not run yet). */
  async function approvedThenEdited() {
    const api = await activate({ 'greet.prompt.yml': GREET }, {}, TOP_UP);
    await api.runCases([ANN, BOB]);
    await fake.command('promptgate.approve', [ANN, BOB]);
    const file = path.join(dir, 'greet.prompt.yml');
    await fs.writeFile(file, GREET.replace('Say hello', 'Say hi'));
    await api.refresh();
    return { api, file };
  }

  /** What the fake model answers; a test may swap it mid-way (a provider moving an alias to a new snapshot). */
  let reply: typeof echoReply;
  beforeEach(async () => {
    reply = echoReply;
    server = await startFakeOpenAI({ respond: (body) => reply(body) });
  });
  afterEach(async () => {
    fake?.dispose();
    await server.close();
    if (dir) await removeDir(dir);
  });

  it('builds folder → prompt → suite → case, with each case at its line', async () => {
    await activate({ 'greet.prompt.yml': GREET });
    assert.equal(outline(fake.controller().items), [`- ${path.basename(dir)}`, '  - greet.prompt.yml [0]', '    - golden [7]', '      - ann [8]', '      - bob [11]'].join('\n'));
  });

  it('a run: Test Explorer states, transcript, CodeLens, Problems and the status bar come from the session', async () => {
    const api = await activate({ 'greet.prompt.yml': GREET.replace('value: bob', 'value: carol') });
    const summary = await api.runCases([ANN, BOB]);
    const run = fake.controller().runs.at(-1)!;
    assert.deepEqual(run.stateOf(), { [ANN]: 'passed', [BOB]: 'failed' });
    assert.ok(run.ended);
    assert.match(run.output, /\[output\] echo: Say hello to Ann/);
    assert.match(run.states.get(BOB)!.messages[0].message, /pass rate 0% \(0\/1\); icontains: /);
    // A failing case without a baseline blocks the gate, as in the CLI.
    assert.equal(summary!.gateFailed, true);
    assert.deepEqual(fake.lenses(path.join(dir, 'greet.prompt.yml')).filter((l) => !l.includes('Run') && !l.includes('Promote')), ['0: ✗ 1/2', '8: ✓ 1/1', '8: Approve', '11: ✗ 0/1', '11: Approve']);
    const problems = fake.diagnostics().entries.get(path.join(dir, 'greet.prompt.yml'))!;
    assert.deepEqual(problems.map((d) => [d.range.start.line, d.message.split(':')[0]]), [[11, 'PromptGate failure']]);
    assert.equal(api.status().text, '$(beaker) $(check) 1/2');
  });

  it('after Approve Baseline, lenses, Problems and the status bar show verdicts against the new baseline at once', async () => {
    const { api, file } = await approvedThenEdited();
    await api.runCases([ANN]);
    assert.equal(api.outcome(ANN)!.verdict.kind, 'regressed');
    assert.ok(fake.lenses(file).includes('8: ⚠ regressed 100% → 0%'));
    assert.match(api.status().text, /1 regressed/);
    assert.ok(fake.diagnostics().entries.get(file)!.some((d) => d.message.startsWith('PromptGate regressed')));

    await fake.command('promptgate.approve', [ANN]);
    assert.equal(api.outcome(ANN)!.verdict.kind, 'fail', 'approved while failing');
    assert.ok(fake.lenses(file).includes('8: ✗ 0/20 (approved failing)'), fake.lenses(file).join('\n'));
    assert.doesNotMatch(api.status().text, /regressed/);
    assert.ok(!fake.diagnostics().entries.get(file)!.some((d) => d.message.startsWith('PromptGate regressed')));
  });

  it("the results panel's history opens an earlier run, judged against today's baselines, and returns to the latest", async () => {
    const { api } = await approvedThenEdited();
    await api.runCases([ANN]);
    const runs = (await fs.readdir(path.join(dir, '.promptgate/runs'))).sort().map((f) => f.replace(/\.jsonl$/, ''));
    await api.openRun('latest');
    let view = api.resultsView()!;
    assert.equal(view.latest, true);
    assert.equal(view.runId, runs.at(-1));
    assert.deepEqual(view.rows.map((r) => [r.name, r.verdict]), [['ann', 'regressed']]);
    assert.deepEqual(view.history.map((h) => [h.prompt, h.points.map((p) => p.runId)]), [['greet.prompt.yml', runs]]);
    // The first run (before the edit): ann passed then, and still passes against the baseline approved since.
    await api.openRun(runs[0]);
    view = api.resultsView()!;
    assert.equal(view.latest, false);
    assert.equal(view.runId, runs[0]);
    assert.deepEqual(view.rows.map((r) => [r.name, r.verdict]).sort(), [['ann', 'pass'], ['bob', 'pass']]);
    await api.openRun('no-such-run');
    assert.equal(api.resultsView()!.runId, runs[0], 'an unknown run leaves the panel as it was');
    assert.ok(fake.messages.some((m) => m.kind === 'warning' && m.text === 'PromptGate: no recorded run no-such-run in this workspace.'));
  });

  it('"Run and approve as baseline" shows the verdicts against the baseline it wrote', async () => {
    const { api, file } = await approvedThenEdited();
    const profile = fake.controller().profiles.find((p) => p.label === 'Run and approve as baseline')!;
    const { CancellationTokenSource, TestRunRequest } = fake.vscode;
    await profile.handler(new TestRunRequest([fake.item(ANN)!]), new CancellationTokenSource().token);
    assert.equal(fake.controller().runs.at(-1)!.stateOf()[ANN], 'failed', 'the run itself regressed');
    assert.equal(api.outcome(ANN)!.verdict.kind, 'fail', 'then it was approved, failing');
    assert.doesNotMatch(api.status().text, /regressed/);
    assert.ok(fake.lenses(file).includes('8: ✗ 0/20 (approved failing)'), fake.lenses(file).join('\n'));
  });

  it('Approve Baseline refuses a one-sample run as a baseline and offers to top it up; topping up samples it to strength', async () => {
    let api = await activate({ 'greet.prompt.yml': GREET });
    await api.runCases([ANN]);
    await fake.command('promptgate.approve', [ANN]);
    assert.ok(fake.messages.some((m) => m.kind === 'warning' && /approved 0; 1 case has too few samples to be a baseline \(1\/1 samples; a baseline needs 20 agreeing\)/.test(m.text)), JSON.stringify(fake.messages));
    await assert.rejects(fs.stat(path.join(dir, '.promptgate/baselines/greet.prompt.yml/golden.json')), 'nothing written');
    fake.dispose();
    await removeDir(dir);
    api = await activate({ 'greet.prompt.yml': GREET }, {}, TOP_UP);
    await api.runCases([ANN]);
    const before = server.count;
    await fake.command('promptgate.approve', [ANN]);
    assert.equal(server.count - before, 19, 'a baseline run: 20 agreeing samples, the first from the cache');
    const baseline = JSON.parse(await fs.readFile(path.join(dir, '.promptgate/baselines/greet.prompt.yml/golden.json'), 'utf8'));
    assert.equal(baseline.cases[ANN].total, 20);
    assert.equal(api.outcome(ANN)!.verdict.kind, 'pass');
  });

  it('Run fresh asks the model again where a plain run answers from the cache, and shows a changed model as drift', async () => {
    const api = await activate({ 'greet.prompt.yml': GREET }, {}, TOP_UP);
    await api.runCases([ANN]);
    await fake.command('promptgate.approve', [ANN]);
    // The provider moves the alias to a new snapshot; nothing changes on our side.
    reply = (body) => ({ ...echoReply(body), model: 'gpt-4o-mini-2026-11-30' });
    const before = server.count;
    await api.runCases([ANN]);
    assert.equal(server.count, before, 'answered from the cache');
    assert.equal(api.outcome(ANN)!.cached, 1);
    assert.match(fake.controller().runs.at(-1)!.output, /1 of 1 verdicts rest on cached answers \(1 entirely\)/);
    const fresh = fake.controller().profiles.find((p) => p.label === 'Run fresh (no cache)')!;
    const { CancellationTokenSource, TestRunRequest } = fake.vscode;
    await fresh.handler(new TestRunRequest([fake.item(ANN)!]), new CancellationTokenSource().token);
    assert.equal(server.count, before + 1, 'asked the model');
    const o = api.outcome(ANN)!;
    assert.equal(o.cached, 0);
    assert.deepEqual(o.drift, { kind: 'model', before: ['gpt-4o-mini'], after: ['gpt-4o-mini-2026-11-30'] });
    assert.match(fake.controller().runs.at(-1)!.output, /model drift in 1 case: model changed since the baseline: gpt-4o-mini → gpt-4o-mini-2026-11-30/);
    await fake.command('promptgate.runFresh');
    assert.equal(server.count, before + 2 + 1, 'the command runs every case fresh (ann and bob)');
  });

  it('reports approved cases that are gone when their suite ran whole', async () => {
    const api = await activate({ 'greet.prompt.yml': GREET }, {}, TOP_UP);
    await api.runCases([ANN, BOB]);
    await fake.command('promptgate.approve');
    await fs.writeFile(path.join(dir, 'greet.prompt.yml'), GREET.slice(0, GREET.indexOf('      - name: bob')));
    await api.refresh();
    const summary = await api.runCases([ANN]);
    assert.deepEqual(summary!.removed.map((v) => v.caseId), [BOB]);
    assert.equal(summary!.counts.removed, 1);
    assert.match(fake.controller().runs.at(-1)!.output, /1 approved case is no longer in greet\.prompt\.yml › golden \(removed\): greet\.prompt\.yml::golden::bob/);
  });

  it('stops a run midway when the budget is spent, and says so', async () => {
    await server.close();
    server = await startFakeOpenAI({ respond: (b) => ({ ...echoReply(b), usage: { prompt_tokens: 10, completion_tokens: 200_000 } }) });
    const cases = Array.from({ length: 6 }, (_, i) => `      - name: c${i}\n        vars: { who: P${i} }\n        assert: [{ type: icontains, value: hello }]\n`).join('');
    const api = await activate({ 'cost.prompt.yml': `name: Cost\nmodel: gpt-4o-mini\nmessages:\n  - role: user\n    content: "Say hello to {{ who }}"\nsuites:\n  golden:\n    cases:\n${cases}` }, { budget: 0.1, concurrency: 1 });
    const summary = await api.runCases(api.cases().map((c) => c.id));
    assert.deepEqual(summary!.stopped, ['the budget of $0.1 was reached']);
    const states = Object.values(fake.controller().runs.at(-1)!.stateOf());
    assert.ok(states.includes('passed') && states.includes('skipped'), states.join(','));
    assert.ok(server.count < 6, `${server.count} calls`);
    assert.ok(fake.messages.some((m) => /reaches your budget of \$0\.1/.test(m.text)));
  });

  it('asks before a run over the budget, and runs nothing when declined', async () => {
    const api = await activate({ 'greet.prompt.yml': GREET.replace('model: gpt-4o-mini', 'model: gpt-4o-mini\nmodelParameters: { maxTokens: 100000 }') }, { budget: 0.0001 });
    const summary = await api.runCases([ANN, BOB]);
    assert.equal(server.count, 0);
    assert.deepEqual(fake.controller().runs.at(-1)!.stateOf(), { [ANN]: 'skipped', [BOB]: 'skipped' });
    assert.equal(summary!.outcomes.length, 0);
    assert.ok(fake.messages.some((m) => m.kind === 'warning' && /over your budget of \$0\.0001/.test(m.text)));
  });

  it('the promptgate.baseURL setting beats a base URL in the files; samples and concurrency settings apply', async () => {
    const other = await startFakeOpenAI({ respond: echoReply });
    try {
      const api = await activate(
        { 'greet.prompt.yml': GREET.replace('model: gpt-4o-mini', `model: gpt-4o-mini\nprovider: { id: openai, baseURL: '${other.baseURL}' }`) },
        { baseURL: server.baseURL, samples: 3 },
      );
      await api.runCases([ANN]);
      assert.equal(other.count, 0, 'the file names another server');
      assert.equal(server.count, 3, 'three samples, to the setting');
    } finally {
      await other.close();
    }
  });

  it('an unsaved edit to promptgate.config.yml is what the refresh reads', async () => {
    const api = await activate({ 'greet.prompt.yml': GREET, 'promptgate.config.yml': 'concurrency: 2\n' });
    const config = path.join(dir, 'promptgate.config.yml');
    fake.editUnsaved(config, 'concurrency: 0\n');
    await api.refresh();
    const problems = fake.diagnostics().entries.get(config) ?? [];
    assert.equal(problems.length, 1, 'the unsaved text is invalid');
    assert.equal(problems[0].range.start.line, 0, problems[0].message);
    const summary = await api.runCases([ANN]);
    assert.equal(server.count, 0, 'a folder with config errors does not run');
    assert.equal(summary!.outcomes.length, 0);
    assert.equal(fake.controller().runs.at(-1)!.stateOf()[ANN], 'errored');
  });

  it('python assertions run only with the user\'s promptgate.allowPython in a trusted workspace; otherwise their cases are skipped with the reason', async function () {
    if (spawnSync('python3', ['--version']).status !== 0) this.skip();
    const files = { 'promptfooconfig.yaml': 'prompts: ["Say {{ w }}"]\nproviders: [openai:gpt-4o-mini]\ntests:\n  - description: py\n    vars: { w: hi }\n    assert: [{ type: python, value: "output.endswith(\'hi\')" }]\n' };
    const PY = 'promptfooconfig.yaml::prompt::py';
    let api = await activate(files);
    await api.runCases([PY]);
    let run = fake.controller().runs.at(-1)!;
    assert.deepEqual(run.stateOf(), { [PY]: 'skipped' });
    assert.deepEqual(fake.lenses(path.join(dir, 'promptfooconfig.yaml')).filter((l) => l.startsWith('3:')), ['3: ⊘ Skipped: python assertions run code with your permissions: PromptGate runs the…'], 'the case\'s lens says why it is skipped');
    assert.match(run.output, /python assertions run code with your permissions/);
    assert.equal(server.count, 0);
    fake.dispose();
    await removeDir(dir);
    api = await activate(files, { allowPython: true });
    await api.runCases([PY]);
    run = fake.controller().runs.at(-1)!;
    assert.deepEqual(run.stateOf(), { [PY]: 'passed' }, run.output);
  });

  it("an agent case's run output lists its steps, and its CodeLens shows its pass rate and steps", async () => {
    reply = (b) => supportAgent(b);
    const agent = await fs.readFile(path.resolve(__dirname, '../../examples/support-agent.prompt.yml'), 'utf8');
    const api = await activate({ 'support-agent.prompt.yml': agent }, { samples: 1 });
    const REFUND = 'support-agent.prompt.yml::golden::refunds-an-eligible-order';
    await api.runCases([REFUND]);
    const run = fake.controller().runs.at(-1)!;
    assert.deepEqual(run.stateOf(), { [REFUND]: 'passed' }, run.output);
    assert.match(run.output, /\[steps\]\r\n {3}1\. model calls lookup_order \{"order_id":"NW-1001"\}[^\r]*\r\n {3}2\. tool lookup_order → \{"order_id":"NW-1001"[^\r]*\r\n {3}3\. model calls issue_refund/);
    assert.match(run.output, /PromptGate: agents: 1\/1 samples completed their task/);
    const line = (await fs.readFile(path.join(dir, 'support-agent.prompt.yml'), 'utf8')).split('\n').findIndex((l) => l.includes('- name: refunds an eligible order'));
    assert.ok(fake.lenses(path.join(dir, 'support-agent.prompt.yml')).includes(`${line}: ✓ 1/1 · 5 steps`), fake.lenses(path.join(dir, 'support-agent.prompt.yml')).join('\n'));
  });

  it("saving a suite's JSONL case file re-runs the cases it changed, and its errors show at their lines", async () => {
    const cases = (b: string) => `{"id": "ann", "vars": {"who": "Ann"}}\n{"id": "bob", "vars": {"who": "${b}"}}\n`;
    const prompt = GREET.replace(/    cases:[\s\S]*$/, '    assert: [{ type: icontains, value: hello }]\n    caseFiles: [cases.jsonl]\n');
    const api = await activate({ 'greet.prompt.yml': prompt, 'cases.jsonl': cases('Bob') });
    assert.deepEqual(api.cases().map((c) => [c.id, path.basename(c.file), c.line]), [[ANN, 'cases.jsonl', 0], [BOB, 'cases.jsonl', 1]]);
    await api.runCases([ANN, BOB]);
    const file = path.join(dir, 'cases.jsonl');
    const runs = api.lastRun().count;
    await fs.writeFile(file, cases('Robert'));
    fake.save(file, cases('Robert'));
    // The save's run is debounced: wait for it (a condition, bounded), not for a fixed time.
    for (let i = 0; i < 200 && api.lastRun().count === runs; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(api.lastRun(), { count: runs + 1, ids: [BOB] }, 'only the changed line re-ran');
    // A continuous run follows the case file when another tool changes it on disk.
    const watch = new fake.vscode.CancellationTokenSource();
    void fake.controller().profiles.find((p) => p.label === 'Run')!.handler(new fake.vscode.TestRunRequest(undefined, undefined, undefined, true), watch.token);
    await fs.writeFile(file, cases('Rob'));
    fake.diskChange(file);
    for (let i = 0; i < 200 && api.lastRun().count === runs + 1; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(api.lastRun(), { count: runs + 2, ids: [BOB] }, 'the continuous run re-ran the changed line');
    watch.cancel();
    await fs.writeFile(file, `${cases('Bob')}{"id": "cy", "varz": {}}\n`);
    await api.refresh();
    const problems = fake.diagnostics().entries.get(file) ?? [];
    assert.deepEqual(problems.map((d) => [d.range.start.line, d.range.start.character, d.message]), [[2, 13, "unknown field 'varz'"]]);
  });

  it('in Restricted Mode a run skips every case and calls nothing', async () => {
    dir = await tmpProject({ 'greet.prompt.yml': GREET });
    fake = fakeVSCode({ root: dir, trusted: false });
    ext = new PromptGateExtension(fake.vscode as never, fake.context as never, { env: { OPENAI_BASE_URL: server.baseURL }, readDisk: (f) => fs.readFile(f, 'utf8') });
    ext.start();
    await ext.api.runCases([ANN]);
    assert.deepEqual(fake.controller().runs.at(-1)!.stateOf(), { [ANN]: 'skipped' });
    assert.equal(server.count, 0);
  });
});
