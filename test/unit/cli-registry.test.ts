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
  this.timeout(300_000);

  /**
   * Starts a publish and kills it once `when` holds (checked every 5 ms), or lets it be if it exits
   * first. Whether the kill came after writing began is for `when` to say.
   */
  async function killWhen(args: string[], cwd: string, when: () => Promise<boolean>): Promise<{ killed: boolean }> {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: 'ignore' });
    let done = false;
    const exited = new Promise<void>((r) =>
      child.once('exit', () => {
        done = true;
        r();
      }),
    );
    const deadline = Date.now() + 120_000;
    while (!done && !(await when())) {
      if (Date.now() > deadline) throw new Error('the kill point was never reached');
      await new Promise((r) => setTimeout(r, 5));
    }
    const killed = !done && child.kill('SIGKILL');
    await exited;
    return { killed };
  }

  const exists = (p: string) => fs.stat(p).then(() => true, () => false);

  it('git backend: publishes killed while writing lose nothing that was pushed, and the next publish works after each', async () => {
    const dir = await tmpProject({ 'greet.prompt.yml': PROMPT });
    const remote = path.join(dir, 'shared.git');
    await new Promise<void>((resolve, reject) => execFile('git', ['init', '-q', '--bare', '-b', 'main', remote], (err) => (err ? reject(err) : resolve())));
    const url = `git+file://${remote}`;
    const head = () => fs.readFile(path.join(remote, 'refs/heads/main'), 'utf8').catch(() => '');
    const clones = path.join(dir, '.promptgate/cache/registries');
    let killedWhileLocked = 0;
    let killedAfterPush = 0;
    try {
      for (let trial = 0; trial < 12; trial++) {
        await fs.writeFile(path.join(dir, 'greet.prompt.yml'), PROMPT.replace('Say hello', `Say hello (${trial})`));
        const before = await head();
        // Even trials: killed once the clone's lock is taken (the write began, nothing pushed yet).
        // Odd trials: killed as soon as the push landed (the clone left mid-way).
        const when = trial % 2 === 0 ? () => lockInside(clones) : async () => (await head()) !== before;
        const { killed } = await killWhen(['publish', 'greet.prompt.yml', '--registry', url], dir, when);
        if (killed && trial % 2 === 0) killedWhileLocked++;
        if (killed && trial % 2 === 1) killedAfterPush++;
        // The remote holds whole files only, and the next command works.
        for (const f of await gitShow(remote, 'prompts/greet/versions').catch(() => [] as string[])) JSON.parse((await gitShow(remote, `prompts/greet/versions/${f}`)).join('\n'));
        for (const line of await gitShow(remote, 'prompts/greet/audit.jsonl').catch(() => [] as string[])) JSON.parse(line);
        await fs.writeFile(path.join(dir, 'greet.prompt.yml'), PROMPT.replace('Say hello', `Say hello (after ${trial})`));
        const next = await cli(['publish', 'greet.prompt.yml', '--registry', url], dir);
        assert.equal(next.code, 0, `after kill ${trial}: ${next.stderr}`);
      }
      assert.ok(killedWhileLocked >= 3 && killedAfterPush >= 3, `kills landed while writing: ${killedWhileLocked} with the lock held, ${killedAfterPush} after the push`);
      const versions = (await gitShow(remote, 'prompts/greet/versions')).sort();
      const n = versions.length;
      assert.deepEqual(versions, Array.from({ length: n }, (_, i) => `${i + 1}.json`).sort(), 'numbered without gaps');
      assert.ok(n >= 12 + killedAfterPush, `${n} versions: every publish after a kill, and every killed one that pushed`);
      const audit = (await gitShow(remote, 'prompts/greet/audit.jsonl')).map((l) => JSON.parse(l) as { version: number });
      assert.deepEqual(audit.map((e) => e.version), Array.from({ length: n }, (_, i) => i + 1));
    } finally {
      await removeDir(dir);
    }
  });

  it('folder backend: publishes killed while writing leave every registry file readable, and the next publish works after each', async () => {
    const dir = await tmpProject({ 'greet.prompt.yml': PROMPT });
    const reg = path.join(dir, 'reg');
    const versionsDir = path.join(reg, 'prompts/greet/versions');
    const count = async () => (await fs.readdir(versionsDir).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).length;
    let killedWhileLocked = 0;
    let killedAfterVersion = 0;
    try {
      for (let trial = 0; trial < 15; trial++) {
        await fs.writeFile(path.join(dir, 'greet.prompt.yml'), PROMPT.replace('Say hello', `Say hello (${trial})`));
        const before = await count();
        // Alternately killed once the lock is taken, and once the version file is in place (before
        // or after its audit line).
        const when = trial % 2 === 0 ? () => exists(path.join(reg, '.lock')) : async () => (await count()) > before;
        const { killed } = await killWhen(['publish', 'greet.prompt.yml', '--registry', reg], dir, when);
        if (killed && trial % 2 === 0) killedWhileLocked++;
        if (killed && trial % 2 === 1) killedAfterVersion++;
        // The files the registry reads (a killed atomic write leaves only its private .tmp file behind).
        for (const f of (await fs.readdir(versionsDir).catch(() => [] as string[])).filter((x) => /^\d+\.json$/.test(x))) JSON.parse(await fs.readFile(path.join(versionsDir, f), 'utf8'));
        const audit = await fs.readFile(path.join(reg, 'prompts/greet/audit.jsonl'), 'utf8').catch(() => '');
        for (const line of audit.split('\n').filter(Boolean)) JSON.parse(line);
        // A dead writer's lock is taken over: the next publish goes through.
        await fs.writeFile(path.join(dir, 'greet.prompt.yml'), PROMPT.replace('Say hello', `Say hello (after ${trial})`));
        const next = await cli(['publish', 'greet.prompt.yml', '--registry', reg], dir);
        assert.equal(next.code, 0, `after kill ${trial}: ${next.stderr}`);
        assert.match(next.stdout, /^published greet v\d+/);
      }
      assert.ok(killedWhileLocked >= 4 && killedAfterVersion >= 4, `kills landed while writing: ${killedWhileLocked} with the lock held, ${killedAfterVersion} after the version file`);
      const n = await count();
      const audit = (await fs.readFile(path.join(reg, 'prompts/greet/audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { version: number });
      assert.deepEqual(audit.map((e) => e.version), Array.from({ length: n }, (_, i) => i + 1), 'every version has its audit line');
      assert.deepEqual((await fs.readdir(reg)).sort(), ['prompts'], 'no lock or staging folder left behind');
    } finally {
      await removeDir(dir);
    }
  });
});

/** Whether one of the clone locks under `dir` is held (its `.lock` folder exists). */
async function lockInside(dir: string): Promise<boolean> {
  for (const e of await fs.readdir(dir).catch(() => [] as string[])) {
    if (e.endsWith('.lock') && (await fs.stat(path.join(dir, e, '.lock')).then(() => true, () => false))) return true;
  }
  return false;
}

/** A folder's entries or a file's lines on the remote's main branch, read with git itself. */
function gitShow(remote: string, rel: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    execFile('git', ['--git-dir', remote, 'show', `main:${rel}`], (err, stdout) => (err ? reject(err) : resolve(String(stdout).split('\n').filter((l) => l && !l.startsWith('tree '))))),
  );
}
