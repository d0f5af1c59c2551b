import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { execFile } from 'node:child_process';
import { FolderRegistryStore, GitRegistryStore, Registry, describeLabel, policyProblems, type VersionEvidence } from '../../src/core';
import { removeDir } from '../support/tmp';
import { record } from '../support/registry-record';

const meta = { actor: 'ann', at: '2026-11-28T00:00:00.000Z' };

describe('registry (folder backend)', () => {
  let dir: string;
  let registry: Registry;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-registry-'));
    registry = new Registry(new FolderRegistryStore(dir, { waitMs: 20_000 }));
  });
  afterEach(() => removeDir(dir));

  it('publishing the same content twice is one version; new content is the next number', async () => {
    const a = await registry.publish(record('v1'));
    const again = await registry.publish(record('v1'));
    const b = await registry.publish(record('v2'));
    assert.deepEqual([a.version.number, a.created, again.version.number, again.created, b.version.number], [1, true, 1, false, 2]);
    assert.deepEqual((await registry.audit('support')).map((e) => [e.action, e.version]), [['publish', 1], ['publish', 2]]);
    // The layout any language can read.
    assert.deepEqual(await fs.readdir(path.join(dir, 'prompts/support/versions')), ['1.json', '2.json']);
    assert.equal(JSON.parse(await fs.readFile(path.join(dir, 'prompts/support/versions/2.json'), 'utf8')).contentHash, 'v2');
  });

  it('labels move and roll back step by step, never bouncing; a label with no history cannot roll back', async () => {
    for (const c of ['v1', 'v2', 'v3']) await registry.publish(record(c));
    for (const v of [1, 2, 3]) await registry.setLabel('support', 'production', v, meta);
    assert.deepEqual(await registry.rollback('support', 'production', meta), { from: 3, to: 2 });
    assert.deepEqual(await registry.rollback('support', 'production', meta), { from: 2, to: 1 });
    await assert.rejects(registry.rollback('support', 'production', meta), /no earlier version to roll back to/);
    assert.equal((await registry.labels('support')).production, 1);
    assert.equal((await registry.resolve('support@production')).contentHash, 'v1');
    assert.equal((await registry.resolve('support@3')).contentHash, 'v3');
    assert.equal((await registry.resolve('support')).contentHash, 'v3');
    await assert.rejects(registry.resolve('support@staging'), /has no label 'staging'/);
    await assert.rejects(registry.setLabel('support', 'production', 9, meta), /has no version 9/);
    const forced = await registry.setLabel('support', 'staging', 3, { ...meta, forced: 'hotfix, suites ran by hand' });
    assert.equal(forced.from, null);
    assert.deepEqual((await registry.audit('support')).at(-1), { at: meta.at, actor: 'ann', action: 'forced-label', version: 3, label: 'staging', from: null, reason: 'hotfix, suites ran by hand' });
  });

  it('8 writers at once lose nothing: every version and every audit entry is there', async () => {
    const stores = Array.from({ length: 8 }, () => new Registry(new FolderRegistryStore(dir, { waitMs: 20_000 })));
    await Promise.all(stores.map((r, i) => r.publish(record(`content ${i}`))));
    const versions = await registry.versions('support');
    assert.deepEqual(versions.map((v) => v.number), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(new Set(versions.map((v) => v.contentHash)).size, 8);
    await Promise.all(stores.map((r, i) => r.setLabel('support', 'production', i + 1, meta)));
    const audit = await registry.audit('support');
    assert.equal(audit.filter((e) => e.action === 'label').length, 8);
    // Each move names the version it replaced: together they form one chain.
    const froms = audit.filter((e) => e.action === 'label').map((e) => e.from);
    assert.equal(froms.filter((f) => f === null).length, 1);
  });

  it('status: labels on this content, drift to another version or to an unpublished edit', async () => {
    await registry.publish(record('v1'));
    await registry.publish(record('v2'));
    await registry.setLabel('support', 'staging', 2, meta);
    await registry.setLabel('support', 'production', 1, meta);
    await registry.setLabel('support', 'canary', 2, meta);
    const onV2 = await registry.status('support', 'v2');
    assert.deepEqual(onV2.labels.map((l) => describeLabel(onV2, l)), ['production is v1; this file is v2', 'staging v2', 'canary v2']);
    assert.deepEqual([onV2.published, onV2.latest], [2, 2]);
    const edit = await registry.status('support', 'v3');
    assert.deepEqual(edit.labels.map((l) => describeLabel(edit, l)), ['production is v1; this file is an unpublished edit', 'staging is v2; this file is an unpublished edit', 'canary is v2; this file is an unpublished edit']);
    assert.deepEqual(await registry.status('nothing', 'v1'), { key: 'nothing', contentHash: 'v1', published: undefined, latest: undefined, labels: [] });
  });

  it('a version whose audit line was lost (writer killed in between) gets it back on the next publish', async () => {
    await registry.publish(record('v1'));
    // As if killed after writing version 2 and before its audit line.
    await fs.writeFile(path.join(dir, 'prompts/support/versions/2.json'), JSON.stringify({ ...record('v2', '2026-11-28T01:00:00.000Z'), number: 2 }));
    await registry.publish(record('v3'));
    assert.deepEqual((await registry.audit('support')).map((e) => [e.action, e.version, e.recovered ?? false]), [['publish', 1, false], ['publish', 2, true], ['publish', 3, false]]);
    assert.equal((await registry.audit('support'))[1].at, '2026-11-28T01:00:00.000Z');
  });

  it('revision marks change with every publish, label move and hand edit', async () => {
    const r0 = await registry.revision(['support']);
    await registry.publish(record('v1'));
    const r1 = await registry.revision(['support']);
    await registry.setLabel('support', 'production', 1, meta);
    const r2 = await registry.revision(['support']);
    await fs.writeFile(path.join(dir, 'prompts/support/labels.json'), '{ "production": 1, "x": 1 }');
    const r3 = await registry.revision(['support']);
    assert.equal(new Set([r0, r1, r2, r3]).size, 4);
    assert.equal(await registry.revision(['support']), r3, 'stable without a change');
  });

  it('a registry file another program broke is an error naming the file and the field', async () => {
    await registry.publish(record('v1'));
    await fs.writeFile(path.join(dir, 'prompts/support/labels.json'), '{ "production": "latest" }');
    await assert.rejects(registry.labels('support'), new RegExp(`${dir}/prompts/support/labels\\.json: production: .*number`));
    await fs.writeFile(path.join(dir, 'prompts/support/labels.json'), '{ "production": 1 }');
    await fs.appendFile(path.join(dir, 'prompts/support/audit.jsonl'), '{"at":"x","actor":"bob","action":"delete","version":1}\n');
    await assert.rejects(registry.audit('support'), /audit\.jsonl:2: action: /);
    const v1 = JSON.parse(await fs.readFile(path.join(dir, 'prompts/support/versions/1.json'), 'utf8'));
    await fs.writeFile(path.join(dir, 'prompts/support/versions/1.json'), JSON.stringify({ ...v1, contentHash: undefined }));
    await assert.rejects(registry.resolve('support@1'), /versions\/1\.json: contentHash: /);
  });

  it('names and labels cannot leave the registry folder', async () => {
    for (const key of ['../outside', '..', '.hidden', 'a/b', '']) {
      await assert.rejects(registry.resolve(`${key}@1`), /is not a registered prompt name/, key);
      await assert.rejects(registry.publish({ ...record('x'), prompt: key }), /is not a registered prompt name/, key);
    }
    await registry.publish(record('v1'));
    for (const label of ['__proto__', '../x', 'a b', '']) await assert.rejects(registry.setLabel('support', label, 1, meta), /is not a label name/, label);
    assert.deepEqual(await fs.readdir(dir), ['prompts']);
    assert.deepEqual(await fs.readdir(path.join(dir, 'prompts')), ['support']);
  });

  it("a dead writer's lock is taken over, a live one is waited for", async () => {
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, '.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), at: Date.now() }));
    await registry.publish(record('after a crash'));
    await fs.writeFile(path.join(dir, '.lock'), JSON.stringify({ pid: process.pid, host: os.hostname(), at: Date.now() }));
    const busy = new Registry(new FolderRegistryStore(dir, { waitMs: 300 }));
    await assert.rejects(busy.publish(record('blocked')), /is locked by process/);
    await fs.rm(path.join(dir, '.lock'));
    // The same with today's lock, a folder holding its holder's file.
    await fs.mkdir(path.join(dir, '.lock'));
    await fs.writeFile(path.join(dir, '.lock', 'dead.json'), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), at: Date.now() }));
    await registry.publish(record('after another crash'));
    await fs.mkdir(path.join(dir, '.lock'));
    await fs.writeFile(path.join(dir, '.lock', 'live.json'), JSON.stringify({ pid: process.pid, host: os.hostname(), at: Date.now() }));
    await assert.rejects(busy.publish(record('blocked')), /is locked by process/);
    await fs.rm(path.join(dir, '.lock'), { recursive: true });
    assert.deepEqual(await fs.readdir(dir), ['prompts']);
  });

  it('labels named like Object members are labels like any other: moves keep their from', async () => {
    await registry.publish(record('v1'));
    await registry.publish(record('v2'));
    for (const label of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      assert.deepEqual(await registry.setLabel('support', label, 1, meta), { from: null }, label);
      assert.deepEqual(await registry.setLabel('support', label, 2, meta), { from: 1 }, label);
    }
    const moves = (await registry.audit('support')).filter((e) => e.action === 'label');
    assert.deepEqual(moves.map((e) => [e.label, e.from ?? null, e.version]), ['constructor', 'toString', 'hasOwnProperty', 'valueOf'].flatMap((l) => [[l, null, 1], [l, 1, 2]]));
    assert.deepEqual(await registry.rollback('support', 'constructor', meta), { from: 2, to: 1 });
  });
});

describe('label policies', () => {
  const evidence = (over: Partial<VersionEvidence['suites'][number]> = {}): VersionEvidence => ({
    contentHash: 'abc',
    runIds: ['r1'],
    suites: [
      { name: 'golden', kind: 'golden', cases: 4, ran: 4, minSamples: 5, passing: 4, regressed: 0, blocking: 0, ...over },
      { name: 'attacks', kind: 'adversarial', cases: 10, ran: 10, minSamples: 1, passing: 9, regressed: 0, blocking: 0 },
    ],
    regressions: over.regressed ?? 0,
    collectedAt: '2026-11-28T00:00:00.000Z',
  });

  it('say why evidence falls short, and pass when it does not', () => {
    assert.deepEqual(policyProblems(evidence(), { suites: ['golden', 'adversarial'], minSamples: 1 }), []);
    assert.deepEqual(policyProblems(undefined, {}), ['no evidence: run the suites with promptgate test on this content first']);
    assert.deepEqual(policyProblems(evidence({ ran: 3 }), { suites: ['golden'] }), ["suite 'golden': 1 of 4 cases have not run on content abc"]);
    assert.deepEqual(policyProblems(evidence(), { suites: ['adversarial'], minSamples: 5 }), ["suite 'attacks': 1 samples per case, the policy needs 5"]);
    assert.deepEqual(policyProblems(evidence({ regressed: 1, blocking: 1 }), { suites: ['golden'] }), ["suite 'golden': 1 regressed"]);
    assert.deepEqual(policyProblems(evidence({ regressed: 1, blocking: 1 }), { suites: ['golden'], allowRegressions: true }), []);
    assert.deepEqual(policyProblems(evidence({ blocking: 2 }), {}), ["suite 'golden': 2 failing or errored without an approved baseline"]);
    assert.deepEqual(policyProblems(evidence(), { suites: ['smoke'] }), ["suite 'smoke' does not exist for this prompt"]);
  });
});

describe('registry (git backend, bare repositories on disk as the shared remote)', function () {
  this.timeout(120_000);
  let dir: string;
  let remote: string;
  // Each clone as if on a machine of its own: writers are kept apart by rejected pushes alone.
  const clone = (name: string) => new Registry(new GitRegistryStore(remote, path.join(dir, name), { name, email: `${name}@example.com` }, { sameHostTurns: false }));
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-git-'));
    remote = path.join(dir, 'prompts.git');
    await exec('git', ['init', '-q', '--bare', '-b', 'main', remote]);
  });
  afterEach(() => removeDir(dir));

  it('passes the same contract: same content is one version, labels, rollback, another clone sees it all', async () => {
    const a = clone('ann');
    assert.equal((await a.publish(record('v1'))).version.number, 1);
    assert.equal((await a.publish(record('v1'))).created, false);
    await a.publish(record('v2'));
    await a.setLabel('support', 'production', 1, meta);
    await a.setLabel('support', 'production', 2, meta);
    assert.deepEqual(await a.rollback('support', 'production', meta), { from: 2, to: 1 });
    const b = clone('bob');
    assert.equal((await b.resolve('support@production')).contentHash, 'v1');
    assert.deepEqual((await b.audit('support')).map((e) => e.action), ['publish', 'publish', 'label', 'label', 'rollback']);
    const log = await exec('git', ['--git-dir', remote, 'log', '--format=%an %s', 'main']);
    assert.match(log, /^ann promptgate: rollback support production\n/);
  });

  it('a clone left broken by a killed git (stale index.lock and ref locks, a half-made clone) is repaired or cloned again', async () => {
    const a = clone('ann');
    await a.publish(record('v1'));
    const gitDir = (await fs.readdir(path.join(dir, 'ann', 'registries'))).filter((f) => !f.endsWith('.lock'))[0];
    const work = path.join(dir, 'ann', 'registries', gitDir);
    await fs.writeFile(path.join(work, '.git', 'index.lock'), '');
    await fs.writeFile(path.join(work, '.git', 'refs', 'heads', 'main.lock'), '');
    const again = clone('ann');
    assert.equal((await again.publish(record('v2'))).version.number, 2);
    // A clone killed before it wrote its config: not a clone of this remote, so made again.
    await fs.rm(path.join(work, '.git', 'config'));
    const third = clone('ann');
    assert.deepEqual((await third.versions('support')).map((v) => v.number), [1, 2]);
    await third.publish(record('v3'));
    assert.equal((await clone('bob').resolve('support')).number, 3);
  });

  it('refresh() shows what another clone pushed since', async () => {
    const a = clone('ann');
    const b = clone('bob');
    await a.publish(record('v1'));
    assert.equal((await b.versions('support')).length, 1);
    await a.publish(record('v2'));
    assert.equal((await b.versions('support')).length, 1, 'reads do not fetch on their own');
    await b.store.refresh();
    assert.equal((await b.versions('support')).length, 2);
  });

  it('8 promotions at once from two clones lose nothing: rejected pushes are fetched and re-applied', async () => {
    const seed = clone('seed');
    for (let i = 1; i <= 8; i++) await seed.publish(record(`content ${i}`));
    const clones = [clone('ann'), clone('bob')];
    await Promise.all(Array.from({ length: 8 }, (_, i) => clones[i % 2].setLabel('support', 'production', i + 1, { actor: i % 2 ? 'bob' : 'ann', at: meta.at })));
    const audit = await clone('carol').audit('support');
    const moves = audit.filter((e) => e.action === 'label');
    assert.equal(moves.length, 8);
    assert.deepEqual(moves.map((e) => e.version).sort((x, y) => x - y), [1, 2, 3, 4, 5, 6, 7, 8]);
    // Each move names the one before it: one unbroken chain, nothing overwritten.
    assert.deepEqual(moves.slice(1).map((e) => e.from), moves.slice(0, -1).map((e) => e.version));
  });
});

function exec(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(String(stdout)))));
}
