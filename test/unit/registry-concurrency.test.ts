import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { execFile, spawn } from 'node:child_process';
import { FolderRegistryStore, GitRegistryStore, Registry } from '../../src/core';
import { removeDir } from '../support/tmp';
import { record } from '../support/registry-record';

const WRITER = path.resolve(__dirname, '../support/registry-writer.ts');

/** Runs `writers` separate processes at once, each moving its own label `moves` times. */
async function race(backend: 'folder' | 'git' | 'git-apart', location: string, dir: string, writers: number, moves: number): Promise<{ code: number | null; stderr: string }[]> {
  return Promise.all(
    Array.from({ length: writers }, (_, i) =>
      new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', WRITER, backend, location, path.join(dir, `cache-${i}`), `w${i}`, String(moves)], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr }));
      }),
    ),
  );
}

/** Every writer's moves are all there, each naming the one before it, and its label is where its last move put it. */
async function checkNothingLost(registry: Registry, writers: number, moves: number): Promise<void> {
  const audit = await registry.audit('support');
  const labels = await registry.labels('support');
  const lost: string[] = [];
  for (let i = 0; i < writers; i++) {
    const mine = audit.filter((e) => e.label === `w${i}`);
    if (mine.length !== moves) lost.push(`w${i}: ${mine.length} of ${moves} moves in the audit log`);
    const expected = mine.map((_, k) => (k % 2) + 1);
    assert.deepEqual(mine.map((e) => e.version), expected, `w${i}'s moves in order`);
    assert.deepEqual(mine.map((e) => e.from ?? null), [null, ...expected.slice(0, -1)], `w${i}'s moves each name the one before`);
    if (labels[`w${i}`] !== ((moves - 1) % 2) + 1) lost.push(`w${i}: label at ${labels[`w${i}`]}`);
  }
  assert.deepEqual(lost, [], `${lost.length} writers lost updates`);
}

describe('registry under concurrent writers (separate processes)', function () {
  this.timeout(600_000);
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-race-'));
  });
  afterEach(() => removeDir(dir));

  it('folder: 16 processes moving their labels 10 times each lose no move and no audit line', async () => {
    const location = path.join(dir, 'registry');
    const registry = new Registry(new FolderRegistryStore(location));
    await registry.publish(record('v1'));
    await registry.publish(record('v2'));
    const results = await race('folder', location, dir, 16, 10);
    assert.deepEqual(results.filter((r) => r.code !== 0), []);
    await checkNothingLost(registry, 16, 10);
    assert.deepEqual((await fs.readdir(location)).sort(), ['prompts'], 'no lock or staging folder left behind');
  });

  const gitRace = async (backend: 'git' | 'git-apart', writers: number, moves: number) => {
    const remote = path.join(dir, 'prompts.git');
    await new Promise<void>((resolve, reject) => execFile('git', ['init', '-q', '--bare', '-b', 'main', remote], (err) => (err ? reject(err) : resolve())));
    const seed = new Registry(new GitRegistryStore(remote, path.join(dir, 'seed'), { name: 'seed', email: 'seed@example.com' }));
    await seed.publish(record('v1'));
    await seed.publish(record('v2'));
    const results = await race(backend, remote, dir, writers, moves);
    assert.deepEqual(results.filter((r) => r.code !== 0), []);
    await seed.store.refresh();
    await checkNothingLost(seed, writers, moves);
  };

  it('git: 32 separate clones on one machine moving their labels twice each all land', () => gitRace('git', 32, 2));

  it('git: 16 clones as if on 16 machines (only rejected pushes keep them apart) all land', () => gitRace('git-apart', 16, 1));
});
