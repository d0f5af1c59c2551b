import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { CodeCache, codeCacheDir, unseal } from '../../src/cli/codecache';
import { CLI, cli } from '../support/cli';
import { removeDir, tmpProject } from '../support/tmp';

const MODULE = `#!/usr/bin/env node
const path = require('node:path');
exports.where = path.basename(__filename) + ' in ' + path.basename(__dirname);
exports.double = (x) => x * 2;
exports.self = module.exports === exports && this === exports;
`;

describe('code cache (the CLI bundle compiled once per build)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tmpProject({ 'lib/m.js': MODULE });
  });
  afterEach(() => removeDir(dir));
  // How a fresh process meets the cache (within one process V8 answers from its own memory first).
  const inChild = (file: string, ripeAfterMs = 0) => {
    const code = `const { CodeCache } = require(${JSON.stringify(path.resolve(__dirname, '../../src/cli/codecache.ts'))});
      const c = new CodeCache(${JSON.stringify(path.join(dir, 'cache'))}, ${ripeAfterMs});
      console.log(c.require(${JSON.stringify(file)}).double(2), JSON.stringify(c.uses()));
      c.save();`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    return child.stdout.trim();
  };
  /** Loads `file` through a fresh cache in this process and writes its cache. */
  const cacheOnce = (file: string) => {
    const c = new CodeCache(path.join(dir, 'cache'));
    c.require(file);
    c.save();
  };
  const cacheFiles = async () => (await fs.readdir(path.join(dir, 'cache')).catch(() => [] as string[])).sort();

  it('runs a CommonJS file as require does, and writes its cache at save', async () => {
    const file = path.join(dir, 'lib/m.js');
    const first = new CodeCache(path.join(dir, 'cache'));
    const m = first.require(file) as { where: string; double(x: number): number; self: boolean };
    assert.equal(m.where, 'm.js in lib');
    assert.equal(m.double(21), 42);
    assert.equal(m.self, true);
    assert.equal(first.require(file), m, 'loaded once per process');
    assert.deepEqual(first.uses(), { 'm.js': 'none' });
    first.save();
    const written = await cacheFiles();
    assert.equal(written.length, 1);
    assert.match(written[0], new RegExp(`^m\\.js-[0-9a-f]{8}-${process.version}-${process.arch}-\\d+-\\d+\\.bin$`));

    assert.equal(inChild(file), '4 {"m.js":"accepted"}');
  });

  it('compiles as usual from a damaged cache and replaces it', async () => {
    const file = path.join(dir, 'lib/m.js');
    cacheOnce(file);
    const [name] = await cacheFiles();
    const cacheFile = path.join(dir, 'cache', name);
    const good = await fs.readFile(cacheFile);
    const flipped = Buffer.from(good);
    for (const at of [Math.floor(good.length / 2), good.length - 3]) flipped[at] ^= 0xff;
    for (const damaged of [flipped, good.subarray(0, good.length >> 1), Buffer.from('not a V8 code cache')]) {
      await fs.writeFile(cacheFile, damaged);
      assert.equal(inChild(file), '4 {"m.js":"rejected"}');
      assert.ok(unseal(await fs.readFile(cacheFile)), 'rewritten whole at exit');
      assert.equal(inChild(file), '4 {"m.js":"accepted"}');
    }
  });

  it('replaces a cache a short process made once a longer one has run, then leaves it be', async () => {
    const file = path.join(dir, 'lib/m.js');
    const flags = async () => (await fs.readFile(path.join(dir, 'cache', (await cacheFiles())[0]))).readUInt32LE(12);
    const mtime = async () => (await fs.stat(path.join(dir, 'cache', (await cacheFiles())[0]))).mtimeMs;
    assert.equal(inChild(file, 1e9), '4 {"m.js":"none"}');
    assert.equal(await flags(), 0, 'written by a short process');
    assert.equal(inChild(file, 1e9), '4 {"m.js":"accepted"}');
    assert.equal(await flags(), 0);
    assert.equal(inChild(file, 0), '4 {"m.js":"accepted"}');
    assert.equal(await flags(), 1, 'replaced by a long one');
    const before = await mtime();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(inChild(file, 0), '4 {"m.js":"accepted"}');
    assert.equal(await mtime(), before, 'a ripe cache is not written again');
  });

  it('never uses the cache of an older build, and removes it', async () => {
    const file = path.join(dir, 'lib/m.js');
    cacheOnce(file);
    const [old] = await cacheFiles();
    await fs.writeFile(file, MODULE.replace('x * 2', 'x * 3'));
    const second = new CodeCache(path.join(dir, 'cache'));
    assert.equal((second.require(file) as { double(x: number): number }).double(2), 6, 'the new source runs');
    assert.deepEqual(second.uses(), { 'm.js': 'none' });
    second.save();
    const now = await cacheFiles();
    assert.equal(now.length, 1);
    assert.notEqual(now[0], old);
  });

  it('keeps one cache per install: two copies of a file do not remove each other’s', async () => {
    await fs.mkdir(path.join(dir, 'other'));
    await fs.copyFile(path.join(dir, 'lib/m.js'), path.join(dir, 'other/m.js'));
    for (let round = 0; round < 2; round++) {
      for (const where of ['lib', 'other']) cacheOnce(path.join(dir, where, 'm.js'));
    }
    assert.equal((await cacheFiles()).length, 2);
  });

  it('runs without a cache when the folder cannot be written, or when it is off', async () => {
    await fs.writeFile(path.join(dir, 'cache'), 'a file where the folder should be');
    const blocked = new CodeCache(path.join(dir, 'cache', 'v8'));
    assert.equal((blocked.require(path.join(dir, 'lib/m.js')) as { double(x: number): number }).double(1), 2);
    assert.doesNotThrow(() => blocked.save());
    const off = new CodeCache(undefined);
    off.require(path.join(dir, 'lib/m.js'));
    assert.deepEqual(off.uses(), { 'm.js': 'off' });
    off.save();
  });

  it('keeps the cache in the user’s own cache folder, never a shared one', () => {
    assert.equal(codeCacheDir({ PROMPTGATE_CODE_CACHE: 'off' }), undefined);
    assert.equal(codeCacheDir({ PROMPTGATE_CODE_CACHE: '/x/y' }), path.resolve('/x/y'));
    assert.equal(codeCacheDir({ XDG_CACHE_HOME: '/xdg' }, 'linux', '/home/u'), path.join('/xdg', 'promptgate', 'v8'));
    assert.equal(codeCacheDir({}, 'darwin', '/Users/u'), path.join('/Users/u', '.cache', 'promptgate', 'v8'));
    assert.equal(codeCacheDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32', 'C:\\Users\\u'), path.join('C:\\Users\\u\\AppData\\Local', 'promptgate', 'v8'));
    assert.equal(codeCacheDir({}, 'win32', 'C:\\Users\\u'), undefined);
  });

  it('the built CLI writes its cache on the first run and starts from it on the next', async function () {
    this.timeout(60_000);
    const cache = path.join(dir, 'v8');
    const env = { PROMPTGATE_CODE_CACHE: cache, PROMPTGATE_DEBUG: '1' };
    const first = await cli(['--version'], dir, env);
    const second = await cli(['--version'], dir, env);
    assert.equal(first.code, 0);
    assert.equal(second.stdout, first.stdout);
    assert.match(first.stderr, /code cache \{"cli-main\.js":"none"\}/);
    assert.match(second.stderr, /code cache \{"cli-main\.js":"accepted"\}/);
    assert.deepEqual((await fs.readdir(cache)).map((f) => f.slice(0, f.indexOf('.js-') + 3)), ['cli-main.js']);
  });

  it('the built CLI bundle is ASCII, which the launcher reads as Latin-1', async () => {
    const bundle = await fs.readFile(path.join(path.dirname(CLI), 'cli-main.js'));
    const at = bundle.findIndex((b) => b > 0x7f);
    assert.equal(at, -1, `non-ASCII at ${at}: ${bundle.subarray(Math.max(0, at - 60), at + 20).toString('utf8')}`);
  });
});
