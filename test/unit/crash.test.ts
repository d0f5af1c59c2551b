import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs, watch, type FSWatcher } from 'node:fs';
import { spawn } from 'node:child_process';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { filesUnder, removeDir, tmpProject } from '../support/tmp';
import { CLI, cli } from '../support/cli';
import { seededRandom } from '../../src/core';

const TRIALS = Number(process.env.PROMPTGATE_CRASH_TRIALS ?? 100);

const prompt = (variant: number) => `name: Crash
model: gpt-4o-mini
messages:
  - role: user
    content: "Say hello to {{ who }} (${variant})"
suites:
  golden:
    samples: 2
    cases:
${Array.from({ length: 30 }, (_, i) => `      - { id: c${i}, vars: { who: "person ${i}" }, assert: [{ type: icontains, value: hello }] }`).join('\n')}
`;

/** Every JSON file parses; a JSONL file may end in one cut line (append-only), every other line parses. */
async function checkReadable(dir: string): Promise<void> {
  for (const f of await filesUnder(path.join(dir, '.promptgate'))) {
    // A registry writer killed while staging its lock leaves `.lock-<token>.tmp/`: never read as a
    // lock (only a renamed `.lock` is), and swept by the next writer once 10 s old.
    if (/[\\/]\.lock-[^\\/]+\.tmp[\\/]/.test(f)) continue;
    const text = await fs.readFile(f, 'utf8');
    if (f.endsWith('.jsonl')) {
      // After the last newline: nothing, or a line cut by the kill.
      for (const l of text.split('\n').slice(0, -1)) assert.doesNotThrow(() => JSON.parse(l), `${path.relative(dir, f)}: a whole line does not parse`);
    } else if (f.endsWith('.json')) assert.doesNotThrow(() => JSON.parse(text), `${path.relative(dir, f)} does not parse`);
  }
}

describe(`crash safety: ${TRIALS} SIGKILLs at random points while writing cache, runs, baselines and registry (built CLI)`, function () {
  this.timeout(600_000);
  let server: FakeOpenAI;
  let dir: string;
  before(async () => {
    server = await startFakeOpenAI({ keepRequests: false, latencyMs: 2 });
    dir = await tmpProject({ 'crash.prompt.yml': prompt(0) });
  });
  after(async () => {
    await server.close();
    await removeDir(dir);
  });

  it('leaves every file readable, and the next run, approval and publish are correct', async () => {
    const env = { ...process.env, OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'x', NO_COLOR: '1' };
    const random = seededRandom(20261128);
    const commands = [['test'], ['approve'], ['publish', 'crash.prompt.yml'], ['test', '--samples', '3']];
    const finished: Record<string, number> = {};
    // How long each command went on writing the last time it finished before its kill: kill points
    // are drawn within that span, so they land while it writes on a fast machine and a slow one
    // alike (a fixed span would let a fast machine finish most commands first).
    const writingMs: Record<string, number> = {};
    let killedWhileWriting = 0;
    await fs.mkdir(path.join(dir, '.promptgate'), { recursive: true });
    for (let trial = 0; trial < TRIALS; trial++) {
      // New content now and then, so there is always something to write.
      if (trial % 4 === 0) await fs.writeFile(path.join(dir, 'crash.prompt.yml'), prompt(trial));
      const args = commands[trial % commands.length];
      // The kill point: a random moment after the command's first write under .promptgate (an
      // event, not a delay from its start, which on a busy machine would land before any write).
      const watchers = await watchTree(path.join(dir, '.promptgate'));
      const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env, stdio: 'ignore' });
      let running = true;
      const exited = new Promise<number | null>((r) =>
        child.once('exit', (code) => {
          running = false;
          r(code);
        }),
      );
      let timer: NodeJS.Timeout | undefined;
      let firstWrite = 0;
      const onChange = () => {
        if (firstWrite) return;
        firstWrite = performance.now();
        timer = setTimeout(() => {
          if (running && child.kill('SIGKILL')) killedWhileWriting++;
        }, Math.floor(random() * (writingMs[args[0]] ?? 400)));
      };
      for (const w of watchers) w.on('change', onChange);
      const code = await exited;
      for (const w of watchers) w.close();
      clearTimeout(timer);
      if (code !== null) {
        finished[args[0]] = (finished[args[0]] ?? 0) + 1;
        if (firstWrite) writingMs[args[0]] = Math.max(20, performance.now() - firstWrite);
      }
      await checkReadable(dir);
    }
    // Some commands finished before their kill, most did not, and every kill came after writing began.
    const done = Object.values(finished).reduce((a, b) => a + b, 0);
    assert.ok(killedWhileWriting > TRIALS * 0.3, `${killedWhileWriting} of ${TRIALS} killed after writing began; ${done} finished first`);

    // After all that: a run gives the right verdicts, approval and publish work.
    await fs.writeFile(path.join(dir, 'crash.prompt.yml'), prompt(9999));
    const run = await cli(['test'], dir, { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'x' });
    assert.equal(run.code, 0, run.stdout.slice(-1500) + run.stderr);
    assert.match(run.stdout, /60 passed, 0 failed, 0 errored[^\n]*\nverdicts: [^\n]*— gate passed/);
    // An approval killed half-way approved some cases: approving again completes it.
    const approve = await cli(['approve'], dir);
    assert.equal(approve.code, 0, approve.stderr);
    const again = await cli(['test'], dir, { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'x' });
    assert.match(again.stdout, /60\/60 from cache/, 'the cache, after all the kills, serves the re-run');
    assert.match(again.stdout, /verdicts: 30 pass — gate passed/);
    const publish = await cli(['publish', 'crash.prompt.yml'], dir);
    assert.equal(publish.code, 0, publish.stderr);
    assert.match(publish.stdout, /evidence: golden: 30\/30 ran, ≥2 samples, 30 passing, 0 regressed/);
  });
});

/**
 * A watcher on `dir` and on each folder under it: the first write anywhere below is an event.
 * (Node 20's recursive fs.watch on Linux scans new folders itself and throws an uncaught ENOENT when
 * one, such as a lock, is gone before it gets there; a folder created later is a change in its parent.)
 */
async function watchTree(dir: string): Promise<FSWatcher[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  const dirs = [dir, ...entries.filter((e) => e.isDirectory()).map((e) => path.join(e.parentPath ?? e.path, e.name))];
  const out: FSWatcher[] = [];
  for (const d of dirs) {
    try {
      out.push(watch(d).on('error', () => undefined));
    } catch {
      // gone since the listing: nothing to watch there
    }
  }
  return out;
}
