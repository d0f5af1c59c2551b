import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { existsSync, promises as fs } from 'node:fs';
import { spawn } from 'node:child_process';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { removeDir, tmpProject } from '../support/tmp';
import { CLI, cli as runCli } from '../support/cli';

const ROOT = path.resolve(__dirname, '../..');

/** The built CLI in `opts.cwd`, with only the environment the test gives. */
const cli = (args: string[], opts: { cwd: string; env?: Record<string, string> }) => runCli(args, opts.cwd, opts.env);

const PROMPT = `name: Greeter
version: 0.1.0
model: gpt-4o-mini
messages:
  - role: user
    content: "Say hello to {{ who }}"
suites:
  golden:
    cases:
      - name: ann
        vars: { who: Ann }
        assert:
          - type: contains
            value: Ann
      - name: bob
        vars: { who: Bob }
        assert:
          - type: icontains
            value: bob
`;

describe('promptgate CLI (built)', function () {
  let server: FakeOpenAI;
  const dirs: string[] = [];
  before(function () {
    assert.ok(existsSync(CLI), 'dist/cli.js is missing: npm test builds it first (npm run build)');
  });
  beforeEach(async () => {
    server = await startFakeOpenAI({});
  });
  afterEach(async () => server.close());
  after(async () => Promise.all(dirs.map(removeDir)));
  const project = async (files: Record<string, string>) => {
    const d = await tmpProject(files);
    dirs.push(d);
    return d;
  };

  it('exits 0 when every case passes, and prints the summary', async () => {
    const dir = await project({ 'greet.prompt.yml': PROMPT });
    const r = await cli(['test'], { cwd: dir, env: { OPENAI_BASE_URL: server.baseURL } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^2 passed, 0 failed, 0 errored/m);
    assert.match(r.stdout, /greet\.prompt\.yml\s+0\.1\.0 [0-9a-f]{7}\s+golden\s+gpt-4o-mini\s+2\s+2\s+2\s+0\s+0\s+0\s+0\s+0/);
    assert.match(r.stdout, /^verdicts: 2 new — gate passed$/m);
    assert.equal(server.count, 2);
    const runs = await fs.readdir(path.join(dir, '.promptgate/runs'));
    assert.equal(runs.length, 1);
  });

  it('streams answers through the built SDK, as it sends whole ones, with the same headers', async () => {
    const streamed = await project({ 'greet.prompt.yml': PROMPT.replace('model: gpt-4o-mini', 'model: gpt-4o-mini\nprovider: { id: openai, stream: true }') });
    const whole = await project({ 'greet.prompt.yml': PROMPT });
    const env = { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-test-stream' };
    for (const dir of [streamed, whole]) {
      const r = await cli(['test', '--no-cache'], { cwd: dir, env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^2 passed, 0 failed, 0 errored/m);
    }
    const seen = server.requests.map((q) => ({ stream: q.body.stream === true, auth: q.headers.authorization, type: q.headers['content-type'], agent: q.headers['user-agent'] }));
    assert.deepEqual(seen.map((s) => s.stream), [true, true, false, false]);
    for (const s of seen) assert.deepEqual([s.auth, s.type, s.agent], ['Bearer sk-test-stream', 'application/json', seen[0].agent]);
  });

  it('exits 1 on a failing case and shows the assertion, expected and actual; writes JUnit, JSON and GitHub annotations', async () => {
    const dir = await project({ 'greet.prompt.yml': PROMPT.replace('value: bob', 'value: carol') });
    const r = await cli(['test', '--junit', 'out/junit.xml', '--json', 'out/report.json'], { cwd: dir, env: { OPENAI_BASE_URL: server.baseURL } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /FAIL greet\.prompt\.yml › golden › bob {2}greet\.prompt\.yml:15/);
    assert.match(r.stdout, /✗ icontains: output does not contain "carol"\n\s+expected: carol\n\s+actual: {3}echo: Say hello to Bob/);

    const xml = await fs.readFile(path.join(dir, 'out/junit.xml'), 'utf8');
    assert.equal(XMLValidator.validate(xml), true);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(xml);
    assert.equal(doc.testsuites['@_tests'], '2');
    assert.equal(doc.testsuites['@_failures'], '1');
    const cases = doc.testsuites.testsuite.testcase;
    assert.equal(cases.length, 2);
    const failed = cases.find((c: Record<string, unknown>) => c['@_name'] === 'bob');
    assert.match(failed.failure['@_message'], /does not contain "carol"/);

    const report = JSON.parse(await fs.readFile(path.join(dir, 'out/report.json'), 'utf8'));
    assert.equal(report.version, 2);
    assert.equal(report.gate, 'failed');
    assert.deepEqual([report.summary.passed, report.summary.failed], [1, 1]);
    assert.equal(report.results[1].status, 'failed');
    assert.deepEqual(report.cases.map((c: { verdict: { kind: string; passing: boolean } }) => [c.verdict.kind, c.verdict.passing]), [['new', true], ['new', false]]);

    const gh = await cli(['test', '--reporter', 'github'], { cwd: dir, env: { OPENAI_BASE_URL: server.baseURL } });
    assert.equal(gh.code, 1);
    assert.match(gh.stdout, /^::error file=greet\.prompt\.yml,line=15,title=PromptGate failed%3A greet\.prompt\.yml › golden › bob::icontains: output does not contain "carol"$/m);
    assert.match(gh.stdout, /^::notice title=PromptGate::1 passed, 1 failed, 0 errored, 0 skipped of 2; verdicts: 2 new%0A2 of 2 verdicts rest on cached answers \(2 entirely\)/m);
  });

  it('exits 1 when a case errors (provider failure) and says why', async () => {
    await server.close();
    server = await startFakeOpenAI({ fault: () => ({ kind: 'status', status: 400 }) });
    const dir = await project({ 'greet.prompt.yml': PROMPT });
    const r = await cli(['test', '--reporter', 'json'], { cwd: dir, env: { OPENAI_BASE_URL: server.baseURL } });
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout);
    assert.equal(report.summary.errored, 2);
    assert.equal(report.results[0].error.kind, 'bad_request');
  });

  it('exits 2 with located errors on invalid files, before any provider call', async () => {
    const dir = await project({
      'greet.prompt.yml': PROMPT.replace('type: contains', 'type: contain'),
      'broken.prompt.yml': 'name: [oops\nmodel: x\n',
    });
    for (const cmd of [['test'], ['validate']]) {
      const r = await cli(cmd, { cwd: dir, env: { OPENAI_BASE_URL: server.baseURL } });
      assert.equal(r.code, 2, cmd.join(' '));
      assert.match(r.stderr, /^error: broken\.prompt\.yml:\d+:\d+: YAML: /m);
      assert.match(r.stderr, /^error: greet\.prompt\.yml:13:19: unknown assertion type 'contain' \(did you mean 'contains'\?\)$/m);
    }
    assert.equal(server.count, 0);
  });

  it('exits 2 on usage errors and when there is nothing to run', async () => {
    const dir = await project({ 'greet.prompt.yml': PROMPT, 'empty/readme.txt': 'x' });
    assert.equal((await cli(['test', '--concurrency', 'lots'], { cwd: dir })).code, 2);
    assert.equal((await cli(['test', '--bogus'], { cwd: dir })).code, 2);
    assert.equal((await cli(['frobnicate'], { cwd: dir })).code, 2);
    const none = await cli(['test', 'empty'], { cwd: dir });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no cases to run/);
    const missingSuite = await cli(['test', '--suite', 'nope'], { cwd: dir, env: { OPENAI_BASE_URL: server.baseURL } });
    assert.equal(missingSuite.code, 2);
    assert.match(missingSuite.stderr, /no suite named 'nope' \(suites: golden\)/);
    const noKey = await cli(['test'], { cwd: dir });
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /OPENAI_API_KEY is not set/);
  });

  it('filters with --suite and --grep, and serves a re-run from the cache', async () => {
    const dir = await project({ 'greet.prompt.yml': PROMPT });
    const r = await cli(['test', '--grep', 'ann$', '--suite', 'golden'], { cwd: dir, env: { OPENAI_BASE_URL: server.baseURL } });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^1 passed/m);
    await cli(['test'], { cwd: dir, env: { OPENAI_BASE_URL: server.baseURL } });
    assert.equal(server.count, 2, 'ann came from the cache the second time');
    const again = await cli(['test'], { cwd: dir, env: { OPENAI_BASE_URL: server.baseURL } });
    assert.match(again.stdout, /2\/2 from cache/);
    assert.equal(server.count, 2);
    await cli(['test', '--no-cache'], { cwd: dir, env: { OPENAI_BASE_URL: server.baseURL } });
    assert.equal(server.count, 4);
  });

  it('records cassettes and replays them with no network and no key; a changed prompt misses loudly', async () => {
    const dir = await project({ 'greet.prompt.yml': PROMPT });
    assert.equal((await cli(['test', '--record'], { cwd: dir, env: { OPENAI_BASE_URL: server.baseURL } })).code, 0);
    await server.close();
    const replay = await cli(['test', '--replay'], { cwd: dir });
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /2\/2 from cassettes/);
    await fs.writeFile(path.join(dir, 'greet.prompt.yml'), PROMPT.replace('Say hello', 'Say hi'));
    const miss = await cli(['test', '--replay'], { cwd: dir });
    assert.equal(miss.code, 1);
    assert.match(miss.stdout, /replay_miss: no recording for this request/);
    server = await startFakeOpenAI({});
  });

  it('Ctrl-C cancels the run, marks unfinished cases skipped, still writes the reports and exits 130', async () => {
    await server.close();
    server = await startFakeOpenAI({ latencyMs: 5000 });
    const dir = await project({ 'greet.prompt.yml': PROMPT });
    const child = spawn(process.execPath, [CLI, 'test', '--junit', 'junit.xml'], { cwd: dir, env: { ...process.env, OPENAI_BASE_URL: server.baseURL, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    while (server.count < 2) await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 130);
    assert.ok(Date.now() - t0 < 3000, 'did not wait for the slow calls');
    assert.match(stdout, /0 passed, 0 failed, 0 errored, 2 skipped/);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(await fs.readFile(path.join(dir, 'junit.xml'), 'utf8'));
    assert.equal(doc.testsuites['@_skipped'], '2');
  });

  it('exits 2 when a report cannot be written, after running', async () => {
    const dir = await project({ 'greet.prompt.yml': PROMPT, 'blocker': 'a file, not a folder' });
    const r = await cli(['test', '--junit', 'blocker/junit.xml'], { cwd: dir, env: { OPENAI_BASE_URL: server.baseURL } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot write blocker\/junit\.xml/);
    assert.match(r.stdout, /2 passed/);
  });

  it('init writes a working example that passes offline', async () => {
    const dir = await project({});
    const init = await cli(['init'], { cwd: dir });
    assert.equal(init.code, 0, init.stderr);
    const r = await cli(['test', '--replay'], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^2 passed, 0 failed/m);
    assert.equal((await cli(['validate'], { cwd: dir })).code, 0);
    const again = await cli(['init'], { cwd: dir });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists/);
  });

  it('runs the offline demo in examples/ green', async () => {
    // A copy, so that the test leaves no run record or cache entry in examples/.
    const copy = await project({});
    await fs.cp(path.join(ROOT, 'examples'), path.join(copy, 'examples'), { recursive: true, filter: (src) => !/[\\/]\.promptgate[\\/](runs|cache)([\\/]|$)/.test(src) });
    const r = await cli(['test', 'examples', '--replay', '--json', 'r.json'], { cwd: copy });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^121 passed, 1 failed, 0 errored/m);
    // The one failure is the demo's known weakness (a base64-encoded injection), approved as failing;
    // the support agent's five cases are new.
    assert.match(r.stdout, /^verdicts: 116 pass, 1 fail, 5 new — gate passed$/m);
    // The agent's cases replay every step: at least two model calls and one tool call each.
    const report = JSON.parse(await fs.readFile(path.join(copy, 'r.json'), 'utf8')) as { results: { prompt: string; steps?: { kind: string }[] }[] };
    const agent = report.results.filter((x) => x.prompt === 'support-agent.prompt.yml');
    assert.equal(agent.length, 5);
    for (const x of agent) assert.ok(x.steps!.filter((s) => s.kind === 'model').length >= 2 && x.steps!.some((s) => s.kind === 'tool'), JSON.stringify(x.steps));
    assert.match(r.stdout, /^ {2}encoding +4 cases +25% \[5%–70%\] \(1\/4\); baseline 25% \(1\/4\)/m);
  });
});
