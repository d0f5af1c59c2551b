import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { crc32 } from 'node:zlib';
import { isAscii } from 'node:buffer';
import { createRequire, wrap } from 'node:module';

// This whole module goes once Node 22 is the minimum: its module compile cache
// (`module.enableCompileCache()`, NODE_COMPILE_CACHE) does the same for every module, kept by Node.

/**
 * Where V8's compiled code for the CLI is kept between runs: `PROMPTGATE_CODE_CACHE` (a folder, or
 * `off`), else the user's own cache folder. Never a shared temporary folder: a planted cache is
 * code that runs.
 */
export function codeCacheDir(env: NodeJS.ProcessEnv, platform = process.platform, home = os.homedir()): string | undefined {
  const set = env.PROMPTGATE_CODE_CACHE;
  if (set === 'off' || set === '0') return undefined;
  if (set) return path.resolve(set);
  const base = platform === 'win32' ? env.LOCALAPPDATA : env.XDG_CACHE_HOME || (home ? path.join(home, '.cache') : undefined);
  return base ? path.join(base, 'promptgate', 'v8') : undefined;
}

/** A process that ran this long has compiled the code a run uses (a cache made earlier is thin). */
const RIPE_AFTER_MS = 500;

export type CacheUse = 'accepted' | 'rejected' | 'none' | 'off';

interface Loaded {
  file: string;
  script: vm.Script;
  cacheFile?: string;
  /** The accepted cache came from a process that ran long enough to have compiled what runs use. */
  ripe?: boolean;
  use: CacheUse;
  exports: unknown;
}

/**
 * Loads the CLI's bundled CommonJS files with a V8 code cache, as Node 22's module compile cache
 * does (Node 20 has none): compiling the bundle (1.7 MB then) and the functions a run calls took about a
 * tenth of a 1,000-case run. The cache is written when the process exits, so it holds the code of
 * every function the run compiled, not only the top level. V8 itself refuses a cache from another
 * V8 version, other flags or other source; the file name also carries the source's size and
 * modification time, so a rebuilt bundle never meets an old cache. V8 does not check a cache's
 * bytes in release builds (a flipped byte crashed Node 20 with a fatal error, or ran wrong code),
 * so each file carries its length and CRC-32, as Node 22's cache does, and a damaged one is never
 * handed to V8. A missing, damaged or refused cache only means compiling as usual; writing it is
 * atomic (temporary file, rename).
 */
export class CodeCache {
  private readonly loaded = new Map<string, Loaded>();

  constructor(
    private readonly dir: string | undefined,
    private readonly ripeAfterMs = RIPE_AFTER_MS,
  ) {}

  /** Runs `file` as a CommonJS module (once per process, like require) and returns its exports. */
  require(file: string): unknown {
    const known = this.loaded.get(file);
    if (known) return known.exports;
    // An ASCII file is decoded as Latin-1, which is the same text at a third of the cost of UTF-8
    // and gives V8 a one-byte string to scan (the build keeps the bundle ASCII).
    const bytes = fs.readFileSync(file);
    let source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
    if (source.startsWith('#!')) source = `//${source.slice(2)}`; // same length: columns stay true
    let cacheFile: string | undefined;
    let cached: Buffer | undefined;
    if (this.dir) {
      const st = fs.statSync(file, { bigint: true });
      cacheFile = path.join(this.dir, `${cacheName(file)}-${process.version}-${process.arch}-${st.size}-${st.mtimeNs}.bin`);
      try {
        cached = fs.readFileSync(cacheFile);
      } catch {
        cached = undefined;
      }
    }
    const sealed = cached && unseal(cached);
    const script = new vm.Script(wrap(source), { filename: file, cachedData: sealed?.data });
    const use: CacheUse = !this.dir ? 'off' : !cached ? 'none' : !sealed || script.cachedDataRejected ? 'rejected' : 'accepted';
    const mod = { exports: {} as unknown, filename: file, id: file, loaded: false };
    const entry: Loaded = { file, script, cacheFile, ripe: use === 'accepted' ? sealed!.ripe : undefined, use, exports: undefined };
    this.loaded.set(file, entry);
    const fn = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
    fn.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
    mod.loaded = true;
    entry.exports = mod.exports;
    return mod.exports;
  }

  /** How each loaded file met its cache (for tests and `PROMPTGATE_DEBUG`). */
  uses(): Record<string, CacheUse> {
    return Object.fromEntries([...this.loaded.values()].map((l) => [path.basename(l.file), l.use]));
  }

  /**
   * Writes the cache of every file that had none or had one V8 refused, and replaces a cache made
   * by a short process (--version, --help, a cached case: little beyond the top level compiled) once
   * a longer one has compiled what runs use. Called at process exit; failures are ignored, as a
   * cache is only ever an optimisation.
   */
  save(): void {
    const ripe = performance.now() >= this.ripeAfterMs;
    for (const l of this.loaded.values()) {
      if (!l.cacheFile) continue;
      if (l.use === 'accepted' && (l.ripe || !ripe)) continue;
      try {
        const data = l.script.createCachedData();
        fs.mkdirSync(this.dir!, { recursive: true, mode: 0o700 });
        const tmp = `${l.cacheFile}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, seal(data, ripe), { mode: 0o600 });
        fs.renameSync(tmp, l.cacheFile);
        // Caches of older builds and Node versions of the same file are dead weight, and so is a
        // temporary file a killed process left (one being written now is younger than a minute),
        // or any cache untouched for a month (an install that is gone; one in use is rewritten).
        const prefix = `${cacheName(l.file)}-`;
        for (const name of fs.readdirSync(this.dir!)) {
          if (name === path.basename(l.cacheFile)) continue;
          const other = path.join(this.dir!, name);
          const age = Date.now() - fs.statSync(other).mtimeMs;
          if (name.endsWith('.tmp') ? age > 60_000 : name.startsWith(prefix) || age > 30 * 86_400_000) fs.rmSync(other, { force: true });
        }
      } catch {
        // read-only home, full disk: the next run compiles as this one did
      }
    }
  }
}

/**
 * `cli-main.js-` and a hash of the folder: installs in several places (global, a project's
 * node_modules) each keep their own cache instead of removing one another's as outdated.
 */
function cacheName(file: string): string {
  let h = 0x811c9dc5; // FNV-1a, 32 bits
  for (const ch of path.dirname(path.resolve(file))) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return `${path.basename(file)}-${h.toString(16).padStart(8, '0')}`;
}

// A cache file: "PGV8", then little-endian u32s: the payload's length, its CRC-32, flags (1: ripe);
// then the payload.
const MAGIC = 0x38564750;
const HEADER = 16;

function seal(data: Buffer, ripe: boolean): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(data.length, 4);
  header.writeUInt32LE(crc32(data), 8);
  header.writeUInt32LE(ripe ? 1 : 0, 12);
  return Buffer.concat([header, data]);
}

/** The payload of an intact cache file, else undefined. */
export function unseal(file: Buffer): { data: Buffer; ripe: boolean } | undefined {
  if (file.length < HEADER || file.readUInt32LE(0) !== MAGIC) return undefined;
  const data = file.subarray(HEADER);
  if (data.length !== file.readUInt32LE(4) || crc32(data) !== file.readUInt32LE(8)) return undefined;
  return { data, ripe: (file.readUInt32LE(12) & 1) === 1 };
}
