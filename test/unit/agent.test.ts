import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { formatDiagnostic, loadProject, type Step } from '../../src/core';
import { startFakeOpenAI, type ChatBody, type FakeOpenAI, type Reply } from '../support/fake-openai';
import { supportAgent } from '../support/agent-model';
import { removeDir, tmpProject } from '../support/tmp';
import { cli } from '../support/cli';

const AGENT = path.resolve(__dirname, '../../examples/support-agent.prompt.yml');

type Result = { caseId: string; name: string; status: string; output: string; steps?: Step[]; assertions: { type: string; pass: boolean; reason: string }[] };
type Report = { cases: { id: string; name: string; verdict: { kind: string; passing: boolean }; change?: { before: string; after: string } }[]; results: Result[] };

const shape = (steps: readonly Step[] = []) => steps.map((s) => (s.kind === 'model' ? (s.toolCalls.length ? `model→${s.toolCalls.map((c) => c.name).join('+')}` : 'model') : `${s.name}${s.injected ? `!${s.injected}` : s.error ? '!error' : ''}`)).join(' ');

/** Agent cases (issue 20): tool loops with mocked tools, scripted turns, trajectory checks, records and diffs. */
describe('agents: tool loops with mocked tools', function () {
  this.timeout(120_000);
  let server: FakeOpenAI;
  let dir: string;
  let respond: (body: ChatBody) => Reply;
  beforeEach(async () => {
    respond = (b) => supportAgent(b);
    server = await startFakeOpenAI({ respond: (b) => respond(b) });
  });
  afterEach(async () => {
    await server.close();
    if (dir) await removeDir(dir);
  });
  const env = () => ({ OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-test' });
  async function run(args: string[] = []): Promise<{ code: number | null; out: string; report: Report }> {
    const r = await cli(['test', '--json', 'r.json', ...(args.includes('--samples') ? [] : ['--samples', '1']), ...args], dir, env());
    return { code: r.code, out: r.stdout + r.stderr, report: JSON.parse(await fs.readFile(path.join(dir, 'r.json'), 'utf8')) as Report };
  }
  const agentFiles = async (edit: (t: string) => string = (t) => t) => ({ 'support-agent.prompt.yml': edit(await fs.readFile(AGENT, 'utf8')) });

  it('answers tool calls from the mocks and calls the model again, turn after turn; steps are in the JSON report', async () => {
    dir = await tmpProject(await agentFiles());
    const { code, out, report } = await run();
    assert.equal(code, 0, out);
    const by = (name: string) => report.results.find((r) => r.name.startsWith(name))!;
    assert.equal(shape(by('refunds an eligible order').steps), 'model→lookup_order lookup_order model→issue_refund issue_refund model');
    assert.equal(shape(by('answers where an order is').steps), 'model→lookup_order lookup_order model model→lookup_order lookup_order model→issue_refund issue_refund model', 'two turns');
    assert.equal(shape(by('apologises').steps), 'model→lookup_order lookup_order!timeout model');
    // Every agent sample holds at least two model calls and one tool call, with what each tool answered.
    for (const r of report.results) {
      assert.ok(r.steps!.filter((s) => s.kind === 'model').length >= 2 && r.steps!.some((s) => s.kind === 'tool'), r.name);
    }
    const refund = by('refunds an eligible order').steps!.find((s) => s.kind === 'tool' && s.name === 'issue_refund');
    assert.deepEqual(refund, { kind: 'tool', turn: 0, name: 'issue_refund', arguments: '{"order_id":"NW-1001","amount":89.5}', result: '{"ok":true,"refund_id":"RF-7731"}' });
    // The model saw the tools' answers: the second request carries the call and the mock's result.
    const second = server.requests.find((q) => q.body.messages.some((m) => m.role === 'tool' && m.content.includes('"NW-1001"')))!.body.messages;
    assert.deepEqual(second.slice(-2).map((m) => m.role), ['assistant', 'tool']);
    assert.equal(second.at(-1)!.tool_call_id, second.at(-2)!.tool_calls![0].id);
  });

  it('a trajectory check catches an agent that follows an instruction planted in a tool result', async () => {
    dir = await tmpProject(await agentFiles());
    respond = (b) => supportAgent(b, { gullible: true });
    const { code, report } = await run(['--suite', 'injection']);
    assert.equal(code, 1);
    const [r] = report.results;
    assert.equal(shape(r.steps), 'model→lookup_order lookup_order model→issue_refund issue_refund model');
    assert.deepEqual(r.assertions.filter((a) => !a.pass).map((a) => a.type), ['tool-sequence', 'forbidden-tools']);
    // The text report shows the failing sample's steps.
    const out = (await cli(['test', '--suite', 'injection', '--samples', '1'], dir, env())).stdout;
    assert.match(out, /\n {5}steps:\n {8}1\. model calls lookup_order \{"order_id":"NW-2001"\}.*\n {8}2\. tool lookup_order → \{"order_id":"NW-2001".*\n {8}3\. model calls issue_refund .*\n {8}4\. tool issue_refund → \{"ok":true,"refund_id":"RF-9999"\}\n {8}5\. model answers /);
    assert.match(out, /^agents: 1\/1 samples completed their task \(100%\); 3\.0 model calls and 2\.0 tool calls per sample$/m);
  });

  it('a loop that never ends, a tool without a mock, and arguments that are not JSON each fail the sample with the reason', async () => {
    dir = await tmpProject(await agentFiles((t) => t.replace('temperature: 0\n', 'temperature: 0\n').replace('  injection:\n', '  loops:\n    maxSteps: 3\n    mocks:\n      lookup_order: { result: { order_id: NW-1, status: lost } }\n    cases:\n      - name: loops\n        vars: { message: loop NW-1001 }\n      - name: unmocked\n        vars: { message: unmocked NW-1001 }\n      - name: garbled\n        vars: { message: garbled NW-1001 }\n  injection:\n')));
    respond = (b) => {
      const user = b.messages.find((m) => m.role === 'user')!.content;
      if (user.startsWith('loop')) return { content: null, toolCalls: [{ name: 'lookup_order', arguments: '{"order_id":"NW-1001"}' }] };
      if (user.startsWith('unmocked')) return { content: null, toolCalls: [{ name: 'issue_refund', arguments: '{"order_id":"NW-1001","amount":1}' }] };
      if (user.startsWith('garbled')) return { content: null, toolCalls: [{ name: 'lookup_order', arguments: '{"order_id": NW-1001' }] };
      return supportAgent(b);
    };
    const { out, report } = await run(['--suite', 'loops']);
    const reason = (name: string) => report.results.find((r) => r.name === name)!.assertions.find((a) => a.type === 'agent')?.reason;
    assert.equal(reason('loops'), 'reached maxSteps (3) without an answer that calls no tool', out);
    assert.equal(shape(report.results.find((r) => r.name === 'loops')!.steps), 'model→lookup_order lookup_order model→lookup_order lookup_order model→lookup_order lookup_order');
    assert.equal(reason('unmocked'), "the model called 'issue_refund', which has no mock (mocked: lookup_order)");
    assert.match(reason('garbled')!, /^the model called 'lookup_order' with arguments that are not valid JSON: /);
    assert.ok(report.results.every((r) => r.status === 'failed'));
    assert.match(out, /^agents: 0\/3 samples completed their task \(0%\)/m);
  });

  it('a model call that errors mid-run keeps the steps before it', async () => {
    dir = await tmpProject(await agentFiles());
    respond = (b) => {
      if (b.messages.some((m) => m.role === 'tool')) throw new Error('the model is overloaded');
      return supportAgent(b);
    };
    const { report } = await run(['--suite', 'injection']);
    const [r] = report.results as (Result & { error?: { message: string } })[];
    assert.equal(r.status, 'errored');
    assert.equal(shape(r.steps), 'model→lookup_order lookup_order');
  });

  it('a model call that had to be retried (a 429) says so in its step and in the task completion line', async () => {
    dir = await tmpProject(await agentFiles());
    await server.close();
    server = await startFakeOpenAI({ respond: (b) => supportAgent(b), fault: (n) => (n === 1 ? { kind: '429', retryAfterMs: 1 } : undefined) });
    const { out, report } = await run(['--suite', 'injection', '--no-cache']);
    const steps = report.results[0].steps!;
    assert.deepEqual(steps.map((s) => (s.kind === 'model' ? (s.retries ?? 0) : '-')), [0, '-', 1], out);
    assert.match(out, /agents: 1\/1 samples completed their task \(100%\); 2\.0 model calls and 1\.0 tool calls per sample; 1 of 2 model calls were retried/);
  });

  it('mocks answer by script, by sequence and with injected failures; a malformed answer is handled', async () => {
    const suite = `prompt: support-agent.prompt.yml
name: scripted
mocks:
  lookup_order:
    javascript: file://mocks/lookup.js
cases:
  - name: script
    vars: { message: "Where is NW-1003?" }
    turns: [{ user: "And now, NW-1003?", assert: [{ type: icontains, value: shipped }] }]
    assert: [{ type: icontains, value: shipped }]
  - name: malformed
    vars: { message: "Where is NW-1003?" }
    mocks: { lookup_order: { fail: malformed } }
    assert: [{ type: icontains, value: Nothing was changed }]
`;
    // The mock's script is a file of the project: an expression over args and call.
    dir = await tmpProject({ ...(await agentFiles()), 'scripted.suite.yml': suite, 'mocks/lookup.js': "({ order_id: args.order_id, status: call === 0 ? 'packed' : 'shipped' })\n" });
    const { out, report } = await run(['--suite', 'scripted']);
    const script = report.results.find((r) => r.name === 'script')!;
    assert.equal(script.status, 'passed', out);
    assert.deepEqual(script.steps!.filter((s) => s.kind === 'tool').map((s) => (s.kind === 'tool' ? s.result : '')), ['{"order_id":"NW-1003","status":"packed"}', '{"order_id":"NW-1003","status":"shipped"}']);
    const first = report.results.find((r) => r.name === 'script')!.assertions[0];
    assert.equal(first.type, 'icontains', 'the turn\'s assertion is checked on its own answer');
    assert.equal(report.results.find((r) => r.name === 'malformed')!.status, 'passed', out);
    // A script file that is not there (or outside the project) is a located error.
    await fs.writeFile(path.join(dir, 'scripted.suite.yml'), suite.replace('file://mocks/lookup.js', 'file://../outside.js'));
    const project = await loadProject({ root: dir, paths: [dir] });
    const messages = project.diagnostics.map((d) => formatDiagnostic(d, (f) => path.relative(dir, f)));
    assert.ok(messages.some((m) => /^scripted\.suite\.yml:5:17: mock 'lookup_order': cannot read \.\.\/outside\.js: .*outside the project/.test(m)), messages.join('\n'));
  });

  it('a case carries earlier history: sent after the system message, before the prompt\'s own, and answered with it in view', async () => {
    const suite = `prompt: support-agent.prompt.yml
name: continued
mocks:
  lookup_order: { result: { order_id: NW-1003, status: delivered, refundable: true, total: 35 } }
  issue_refund: { result: { ok: true, refund_id: RF-1 } }
cases:
  - name: follows up
    vars: { order: NW-1003, message: "So can I have a refund for NW-1003?" }
    history:
      - { role: user, content: "Where is {{ order }}?" }
      - { role: assistant, content: "Order {{ order }} was delivered yesterday." }
    assert: [{ type: tool-sequence, value: [lookup_order, issue_refund] }]
`;
    dir = await tmpProject({ ...(await agentFiles()), 'continued.suite.yml': suite });
    const { code, out } = await run(['--suite', 'continued']);
    assert.equal(code, 0, out);
    assert.deepEqual(server.requests[0].body.messages.map((m) => [m.role, m.content.slice(0, 24)]), [
      ['system', "You are Northwind Outfit"],
      ['user', 'Where is NW-1003?'],
      ['assistant', 'Order NW-1003 was delive'],
      ['user', 'So can I have a refund f'],
    ]);
  });

  it('mistakes in mocks are located errors when the file loads', async () => {
    dir = await tmpProject(
      await agentFiles((t) =>
        t
          .replace('      issue_refund:\n        result: { ok: true, refund_id: RF-7731 }', '      issue_refunds:\n        result: { ok: true }')
          .replace('result: { order_id: NW-1003, status: shipped, eta: Thursday }\n      issue', 'result: { status: shipped }\n      issue')
          .replace('- args: { order_id: NW-1002 }', '- args: { order: NW-1002 }')
          .replace('lookup_order: { fail: timeout }', 'lookup_order: { javascript: "return (" }'),
      ),
    );
    const project = await loadProject({ root: dir, paths: [dir] });
    const messages = project.diagnostics.map((d) => formatDiagnostic(d, (f) => path.relative(dir, f)));
    const has = (re: RegExp) => assert.ok(messages.some((m) => re.test(m)), `${re}\n${messages.join('\n')}`);
    has(/^support-agent\.prompt\.yml:\d+:\d+: mock 'issue_refunds' names no tool of support-agent\.prompt\.yml \(its tools: lookup_order, issue_refund\)$/);
    has(/^support-agent\.prompt\.yml:5[0-9]:\d+: mock 'lookup_order': this result does not match its returns schema: .*order_id/);
    has(/^support-agent\.prompt\.yml:\d+:\d+: 'order' is not a parameter of lookup_order \(its parameters: order_id\)$/);
    has(/^support-agent\.prompt\.yml:\d+:\d+: mock 'lookup_order': javascript does not compile/);
  });

  it('records every step to the cassettes and replays them offline; a changed trajectory is a regression whose diff shows the tool calls first', async () => {
    dir = await tmpProject({ ...(await agentFiles()), 'promptgate.config.yml': 'cassettesDir: cassettes\n' });
    // Enough samples for a baseline the gate can stand on (each an agent run of its own).
    const recorded = await run(['--record', '--samples', '20']);
    assert.equal(recorded.code, 0, recorded.out);
    const calls = server.count;
    await server.close();
    // Offline: the server is gone, and replay answers every step.
    const replayed = await cli(['test', '--replay', '--json', 'r.json', '--samples', '20'], dir, {});
    assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
    const report = JSON.parse(await fs.readFile(path.join(dir, 'r.json'), 'utf8')) as Report;
    assert.equal(report.results.reduce((n, r) => n + r.steps!.filter((s) => s.kind === 'model').length, 0), calls, 'one cassette per model call');
    // --rejudge judges the recorded steps again; nothing is called (the server is gone).
    const rejudged = await cli(['test', '--rejudge', '--json', 'r.json'], dir, {});
    assert.equal(rejudged.code, 0, rejudged.stdout + rejudged.stderr);
    const again = JSON.parse(await fs.readFile(path.join(dir, 'r.json'), 'utf8')) as Report;
    assert.equal(shape(again.results.find((r) => r.name === 'refunds an eligible order')!.steps), 'model→lookup_order lookup_order model→issue_refund issue_refund model');
    assert.ok(again.results.every((r) => r.status === 'passed'));
    const approved = await cli(['approve'], dir);
    assert.equal(approved.code, 0, approved.stdout + approved.stderr);
    // The agent now refunds before it looks the order up.
    server = await startFakeOpenAI({ respond: (b) => (b.messages.some((m) => m.role === 'tool') ? supportAgent(b) : b.messages.at(-1)!.content.includes('NW-1001') ? { content: null, toolCalls: [{ name: 'issue_refund', arguments: '{"order_id":"NW-1001","amount":89.5}' }] } : supportAgent(b)) });
    const after = await run(['--suite', 'golden', '--no-cache', '--samples', '20']);
    assert.equal(after.code, 1, after.out + JSON.stringify(after.report.cases.map((c) => [c.name, c.verdict.kind])));
    const regressed = after.report.cases.find((c) => c.verdict.kind === 'regressed' && c.name === 'refunds an eligible order')!;
    assert.ok(regressed, after.out);
    assert.match(regressed.change!.before, /^→ lookup_order \{"order_id":"NW-1001"\}\n→ issue_refund \{"order_id":"NW-1001","amount":89\.5\}\n── answer ──\nDone: refund RF-7731/);
    assert.match(regressed.change!.after, /^→ issue_refund \{"order_id":"NW-1001","amount":89\.5\}\n── answer ──\n/);
  });
});
