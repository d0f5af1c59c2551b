import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { filesUnder, removeDir, tmpProject } from '../support/tmp';
import { cli } from '../support/cli';

// What a hostile (or careless) project does to whoever runs PromptGate on it: each through the
// built CLI, each ends as a located error or a failed case, and nothing outside the project is
// read, written or run.

const KEY = 'sk-hostile-0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const prompt = (content: string, extra = '') => `name: Hostile
model: gpt-4o-mini
messages:
  - role: user
    content: ${JSON.stringify(content)}
suites:
  s:
    cases:
      - id: a
        vars: { who: Ann }
${extra}`;

describe('a hostile project (built CLI)', function () {
  this.timeout(120_000);
  let server: FakeOpenAI;
  let dir: string;
  let outside: string;
  let env: Record<string, string>;
  beforeEach(async () => {
    server = await startFakeOpenAI({});
    outside = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-outside-'));
    env = { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: KEY };
  });
  afterEach(async () => {
    await server.close();
    await removeDir(dir);
    await removeDir(outside);
  });

  it('a template that calls into the runtime is a located error in validate and test, and runs nothing', async () => {
    const target = path.join(outside, 'pwned.txt');
    dir = await tmpProject({ 'evil.prompt.yml': prompt(`Hi {{ range.constructor("return process.mainModule.require('fs').writeFileSync('${target}', 'x')")() }}`) });
    for (const command of ['validate', 'test']) {
      const r = await cli([command], dir, env);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /evil\.prompt\.yml:5:\d+: .*templates may not read 'constructor'/);
    }
    await assert.rejects(fs.stat(target), 'nothing was written');
    assert.equal(server.count, 0);
  });

  it('a template loop is stopped by its budget: validate ends at once with a located error', async () => {
    dir = await tmpProject({ 'loop.prompt.yml': prompt('{% for i in range(0, 100000) %}{% for j in range(0, 100000) %}x{% endfor %}{% endfor %}') });
    const r = await cli(['validate'], dir, env);
    assert.equal(r.code, 2);
    // Whichever budget runs out first (steps, or time on a busy machine) stops it.
    assert.match(r.stderr, /loop\.prompt\.yml:5:\d+: template: (the template took more than 5,000,000 steps|rendering took more than 3 s)/);
  });

  it('a javascript assertion that exits the process is a failed assertion; the failing equals still fails the gate', async () => {
    dir = await tmpProject({
      'js.prompt.yml': prompt('Say hi to {{ who }}', `        assert:\n          - { type: javascript, value: "this.constructor.constructor('return process')().exit(0)" }\n          - { type: equals, value: "not what it says" }\n`),
    });
    const r = await cli(['test', '--json', 'report.json'], dir, env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /✗ javascript: assertion failed to evaluate: script threw: Code generation from strings disallowed/);
    assert.match(r.stdout, /gate failed/);
    const report = JSON.parse(await fs.readFile(path.join(dir, 'report.json'), 'utf8')) as { gate: string };
    assert.equal(report.gate, 'failed');
  });

  it('a regex that backtracks for minutes fails its case after a second', async () => {
    await server.close();
    server = await startFakeOpenAI({ respond: () => ({ content: `${'a'.repeat(34)}!` }) });
    env.OPENAI_BASE_URL = server.baseURL;
    dir = await tmpProject({ 're.prompt.yml': prompt('x', `        assert: [{ type: regex, value: "^(\\\\w+\\\\s?)*$" }]\n`) });
    const t0 = Date.now();
    const r = await cli(['test'], dir, env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /did not finish within 1000 ms/);
    assert.ok(Date.now() - t0 < 30_000);
  });

  it('a link inside the project to a file outside it is not read: the key in it reaches no file', async () => {
    const secret = path.join(outside, 'environ');
    await fs.writeFile(secret, `OPENAI_API_KEY=${KEY}\n`);
    dir = await tmpProject({
      'promptfooconfig.yaml': `prompts: ['Summarise {{ doc }}']\nproviders: [openai:chat:gpt-4o-mini]\ntests:\n  - vars: { doc: file://env.txt }\n`,
      'leak.prompt.yml': prompt('{{ who }}'),
      'leak.suite.yml': 'prompt: ./linked.prompt.yml\ncases: [{ id: b }]\n',
    });
    await fs.symlink(secret, path.join(dir, 'env.txt'));
    await fs.writeFile(path.join(outside, 'real.prompt.yml'), prompt('{{ who }}'));
    await fs.symlink(path.join(outside, 'real.prompt.yml'), path.join(dir, 'linked.prompt.yml'));
    const r = await cli(['test', '--json', 'report.json'], dir, env);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /promptfooconfig\.yaml:4:\d+: .*env\.txt is outside the project .*a symbolic link to a place outside/);
    assert.match(r.stderr, /linked\.prompt\.yml is outside the project .*symbolic link/);
    for (const f of await filesUnder(dir)) assert.ok(!(await fs.readFile(f, 'latin1')).includes(KEY), `${path.relative(dir, f)} holds the key`);
    assert.ok(!r.stdout.includes(KEY) && !r.stderr.includes(KEY));
  });

  for (const key of ['runsDir', 'cacheDir', 'baselinesDir', 'cassettesDir']) {
    it(`${key} outside the project is refused with a located error, and nothing is written there`, async () => {
      dir = await tmpProject({ 'ok.prompt.yml': prompt('Hi {{ who }}'), 'promptgate.config.yml': `concurrency: 2\n${key}: ${path.relative(os.tmpdir(), outside) ? `../${path.basename(outside)}/${key}` : ''}\n` });
      // The project lives in the temporary folder too, so ../NAME is a sibling outside it.
      const r = await cli(['test'], dir, env);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`promptgate\\.config\\.yml:2:\\d+: ${key} \\.\\./.* is outside the project`));
      assert.deepEqual(await filesUnder(outside), []);
      assert.equal(server.count, 0);
    });
  }

  it('a .promptgate folder that links outside the project is refused', async () => {
    dir = await tmpProject({ 'ok.prompt.yml': prompt('Hi {{ who }}') });
    await fs.symlink(outside, path.join(dir, '.promptgate'));
    const r = await cli(['test'], dir, env);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /cacheDir \.promptgate\/cache is outside the project .*or a link to a place outside it/);
    assert.deepEqual(await filesUnder(outside), []);
  });

  it('a file whose name starts with dots is a file of the project like any other', async () => {
    dir = await tmpProject({ '...prompt.yml': prompt('Hi {{ who }}') });
    const r = await cli(['test'], dir, env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});
