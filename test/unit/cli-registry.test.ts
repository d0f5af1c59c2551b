import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { execFile, spawn } from 'node:child_process';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { removeDir, tmpProject } from '../support/tmp';
import { CLI, cli } from '../support/cli';

const PROMPT = `name: Greeter
model: gpt-4o-mini
messages:
  - role: user
    content: "Say hello to {{ who }}"
suites:
  golden:
    samples: 2
    cases:
      - name: ann
        vars: { who: Ann }
        assert: [{ type: icontains, value: hello }]
`;
const CONFIG = `registry:
  labels:
    production:
      suites: [golden]
      minSamples: 2
`;

describe('registry commands (built CLI, folder registry)', function () {
  this.timeout(60_000);
  let server: FakeOpenAI;
  let dir: string;
  let env: Record<string, string>;
  beforeEach(async () => {
    server = await startFakeOpenAI({});
    env = { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-test', PROMPTGATE_ACTOR: 'ann' };
    dir = await tmpProject({ 'greet.prompt.yml': PROMPT, 'promptgate.config.yml': CONFIG });
  });
  afterEach(async () => {
    await server.close();
    await removeDir(dir);
  });

  it('promotion needs evidence on this exact content; forced moves, rollback, history and pull', async () => {
    // No run yet: refused, with the reason.
    const refused = await cli(['promote', 'greet.prompt.yml', '--label', 'production'], dir, env);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /refused: production needs evidence .*\n {2}- suite 'golden': 1 of 1 cases have not run on content/);
    assert.equal((await cli(['test'], dir, env)).code, 0);
    const ok = await cli(['promote', 'greet.prompt.yml', '--label', 'production'], dir, env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^production: greet v1\n {2}evidence: golden: 1\/1 ran, ≥2 samples, 1 passing, 0 regressed/);
    // Publishing the same content again is the same version.
    assert.match((await cli(['publish', 'greet.prompt.yml'], dir, env)).stdout, /greet v1 already has this content/);
    const inSync = await cli(['status', '--fail-on-drift'], dir, env);
    assert.equal(inSync.code, 0, inSync.stderr);
    assert.match(inSync.stdout, /^greet\.prompt\.yml {2}greet {2}content \w+ {2}v1\n {2}✓ production v1\n$/);

    // An edit: no evidence for the new content, so only a forced move with a reason goes through.
    const file = path.join(dir, 'greet.prompt.yml');
    await fs.writeFile(file, PROMPT.replace('Say hello', 'Say hi'));
    // The drift check: a warning by default, a failure for CI, an annotation on the prompt for GitHub.
    const drift = await cli(['status'], dir, env);
    assert.equal(drift.code, 0);
    assert.match(drift.stdout, /unpublished\n {2}≠ production is v1; this file is an unpublished edit\n/);
    assert.equal((await cli(['status', '--fail-on-drift'], dir, env)).code, 1);
    assert.equal((await cli(['status', '--fail-on-drift', '--label', 'staging'], dir, env)).code, 1, 'a missing label is drift too');
    assert.equal((await cli(['status', '--reporter', 'github', '--fail-on-drift'], dir, env)).stdout, '::error file=greet.prompt.yml,line=1,title=PromptGate registry::production is v1; this file is an unpublished edit\n');
    assert.equal((await cli(['promote', 'greet.prompt.yml', '--label', 'production', '--force'], dir, env)).code, 2);
    const forced = await cli(['promote', 'greet.prompt.yml', '--label', 'production', '--force', '--reason', 'hotfix'], dir, env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^production: greet v1 → v2 \(forced: hotfix\)/);

    const pulled = JSON.parse((await cli(['pull', 'greet@production'], dir, env)).stdout) as { number: number; messages: { content: string }[] };
    assert.equal(pulled.number, 2);
    assert.equal(pulled.messages[0].content, 'Say hi to {{ who }}');

    const diff = await cli(['diff', 'greet@1', 'greet@production'], dir, env);
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /^-# greet v1 \(content \w+\)\n\+# greet v2 \(content \w+\)\n/m);
    assert.match(diff.stdout, /^-Say hello to \{\{ who \}\}\n\+Say hi to \{\{ who \}\}$/m);

    const back = await cli(['rollback', 'greet', '--label', 'production'], dir, env);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /production: greet v2 → v1 \(rolled back\)/);
    const history = await cli(['history', 'greet.prompt.yml'], dir, env);
    assert.match(history.stdout, /^greet\n {2}v1 {2}\w+ {2}\S+ {2}ann {2}\[production\]\n {2}v2 /);
    assert.match(history.stdout, /production: 1 → 2 {2}forced-label \(hotfix\)\n.*production: 2 → 1 {2}rollback/);
    // The layout is plain files another program can read.
    const labels = JSON.parse(await fs.readFile(path.join(dir, '.promptgate/registry/prompts/greet/labels.json'), 'utf8'));
    assert.deepEqual(labels, { production: 1 });
    assert.equal((await cli(['pull', 'greet@staging'], dir, env)).code, 2);
  });

  it('a git remote as the registry: promote in one project, pull from another', async () => {
    const remote = path.join(dir, 'shared.git');
    await new Promise<void>((resolve, reject) => execFile('git', ['init', '-q', '--bare', '-b', 'main', remote], (err) => (err ? reject(err) : resolve())));
    const url = `git+file://${remote}`;
    assert.equal((await cli(['test'], dir, env)).code, 0);
    const promoted = await cli(['promote', 'greet.prompt.yml', '--label', 'production', '--registry', url], dir, env);
    assert.equal(promoted.code, 0, promoted.stderr);
    const elsewhere = await tmpProject({ 'README.md': 'an application' });
    try {
      const pulled = await cli(['pull', 'greet@production', '-o', 'greet.json'], elsewhere, { ...env, PROMPTGATE_REGISTRY: url });
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.equal(JSON.parse(await fs.readFile(path.join(elsewhere, 'greet.json'), 'utf8')).messages[0].content, 'Say hello to {{ who }}');
      assert.equal((await cli(['pull', 'greet@production'], elsewhere, { ...env, PROMPTGATE_REGISTRY: 'git+file:///nonexistent/nowhere.git' })).code, 2);
      const bad = await cli(['promote', 'greet.prompt.yml', '--label', 'production', '--registry', 'git+file:///nonexistent/nowhere.git'], dir, env);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /error: git clone .* failed/);
    } finally {
      await removeDir(elsewhere);
    }
  });
});

describe('registry crash safety (built CLI, SIGKILL during publish)', function () {
  this.timeout(180_000);
  it('git backend: a publish killed at a random point loses nothing that was pushed, and the next publish works', async () => {
    const dir = await tmpProject({ 'greet.prompt.yml': PROMPT });
    const remote = path.join(dir, 'shared.git');
    await new Promise<void>((resolve, reject) => execFile('git', ['init', '-q', '--bare', '-b', 'main', remote], (err) => (err ? reject(err) : resolve())));
    const url = `git+file://${remote}`;
    try {
      for (let trial = 0; trial < 12; trial++) {
        await fs.writeFile(path.join(dir, 'greet.prompt.yml'), PROMPT.replace('Say hello', `Say hello (${trial})`));
        const child = spawn(process.execPath, [CLI, 'publish', 'greet.prompt.yml', '--registry', url], { cwd: dir, stdio: 'ignore' });
        const exited = new Promise((r) => child.once('exit', r));
        await new Promise((r) => setTimeout(r, 250 + trial * 60));
        child.kill('SIGKILL');
        await exited;
      }
      // The clone the killed processes worked in is repaired (stale git locks, half-done commits)
      // and the next publish lands; the remote holds whole files only, numbered without gaps.
      await fs.writeFile(path.join(dir, 'greet.prompt.yml'), PROMPT.replace('Say hello', 'Say hello (after)'));
      const after = await cli(['publish', 'greet.prompt.yml', '--registry', url], dir);
      assert.equal(after.code, 0, after.stderr);
      const n = Number(/^published greet v(\d+)/.exec(after.stdout)?.[1]);
      const versions = (await gitShow(remote, 'prompts/greet/versions')).sort();
      assert.deepEqual(versions, Array.from({ length: n }, (_, i) => `${i + 1}.json`).sort());
      assert.ok(n > 1 && n < 13, `${n - 1} of 12 killed publishes landed`);
      const audit = (await gitShow(remote, 'prompts/greet/audit.jsonl')).map((l) => JSON.parse(l) as { version: number });
      assert.deepEqual(audit.map((e) => e.version), Array.from({ length: n }, (_, i) => i + 1));
    } finally {
      await removeDir(dir);
    }
  });

  it('a publish killed at a random point leaves every registry file readable, and the next publish works', async () => {
    const dir = await tmpProject({ 'greet.prompt.yml': PROMPT });
    const reg = path.join(dir, 'reg');
    try {
      for (let trial = 0; trial < 15; trial++) {
        await fs.writeFile(path.join(dir, 'greet.prompt.yml'), PROMPT.replace('Say hello', `Say hello (${trial})`));
        const child = spawn(process.execPath, [CLI, 'publish', 'greet.prompt.yml', '--registry', reg], { cwd: dir, stdio: 'ignore' });
        const exited = new Promise((r) => child.once('exit', r));
        // Kill points spread from before loading to after writing (a CLI start alone is ~0.4 s).
        await new Promise((r) => setTimeout(r, 200 + trial * 150));
        child.kill('SIGKILL');
        await exited;
        // Everything there parses.
        for (const f of await fs.readdir(path.join(reg, 'prompts/greet/versions')).catch(() => [] as string[])) JSON.parse(await fs.readFile(path.join(reg, 'prompts/greet/versions', f), 'utf8'));
        const audit = await fs.readFile(path.join(reg, 'prompts/greet/audit.jsonl'), 'utf8').catch(() => '');
        for (const line of audit.split('\n').filter(Boolean)) JSON.parse(line);
      }
      // The kills landed at different points: some publishes finished, some did not.
      const written = (await fs.readdir(path.join(reg, 'prompts/greet/versions')).catch(() => [] as string[])).length;
      assert.ok(written > 0 && written < 15, `${written} of 15 publishes finished`);
      // A dead writer's lock is taken over: the next publish goes through.
      await fs.writeFile(path.join(dir, 'greet.prompt.yml'), PROMPT.replace('Say hello', 'Say hello (after)'));
      const after = await cli(['publish', 'greet.prompt.yml', '--registry', reg], dir);
      assert.equal(after.code, 0, after.stderr);
      assert.match(after.stdout, /^published greet v\d+/);
    } finally {
      await removeDir(dir);
    }
  });
});

/** A folder's entries or a file's lines on the remote's main branch, read with git itself. */
function gitShow(remote: string, rel: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    execFile('git', ['--git-dir', remote, 'show', `main:${rel}`], (err, stdout) => (err ? reject(err) : resolve(String(stdout).split('\n').filter((l) => l && !l.startsWith('tree '))))),
  );
}
