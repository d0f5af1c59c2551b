import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { crc32 } from 'node:zlib';
import { createRequire, wrap } from 'node:module';

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

const REFRESH_AFTER_MS = 500;

export type CacheUse = 'accepted' | 'rejected' | 'none' | 'off';

interface Loaded {
  file: string;
  script: vm.Script;
  cacheFile?: string;
  previous?: number;
  use: CacheUse;
  exports: unknown;
}

/**
 * Loads the CLI's bundled CommonJS files with a V8 code cache, as Node 22's module compile cache
 * does (Node 20 has none): compiling the 1.7 MB bundle and the functions a run calls took about a
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

  constructor(private readonly dir: string | undefined) {}

  /** Runs `file` as a CommonJS module (once per process, like require) and returns its exports. */
  require(file: string): unknown {
    const known = this.loaded.get(file);
    if (known) return known.exports;
    let source = fs.readFileSync(file, 'utf8');
    if (source.startsWith('#!')) source = `//${source.slice(2)}`; // same length: columns stay true
    let cacheFile: string | undefined;
    let cached: Buffer | undefined;
    if (this.dir) {
      const st = fs.statSync(file, { bigint: true });
      cacheFile = path.join(this.dir, `${path.basename(file)}-${process.version}-${process.arch}-${st.size}-${st.mtimeNs}.bin`);
      try {
        cached = fs.readFileSync(cacheFile);
      } catch {
        cached = undefined;
      }
    }
    const data = cached && unseal(cached);
    const script = new vm.Script(wrap(source), { filename: file, cachedData: data });
    const use: CacheUse = !this.dir ? 'off' : !cached ? 'none' : !data || script.cachedDataRejected ? 'rejected' : 'accepted';
    const mod = { exports: {} as unknown, filename: file, id: file, loaded: false };
    const entry: Loaded = { file, script, cacheFile, previous: use === 'accepted' ? data!.length : undefined, use, exports: undefined };
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
   * Writes the cache of every file that had none, had one V8 refused, or has compiled clearly more
   * code than its cache holds (a first run that only printed --help must not fix a thin cache for
   * good). Called at process exit; failures are ignored, as a cache is only ever an optimisation.
   */
  save(): void {
    for (const l of this.loaded.values()) {
      if (!l.cacheFile) continue;
      try {
        // A short process (--version, a cached case) compiled little more than its cache holds;
        // measuring that would cost it more than a cache saves it.
        if (l.previous !== undefined && performance.now() < REFRESH_AFTER_MS) continue;
        const data = l.script.createCachedData();
        if (l.previous !== undefined && data.length <= l.previous * 1.05) continue;
        fs.mkdirSync(this.dir!, { recursive: true, mode: 0o700 });
        const tmp = `${l.cacheFile}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, seal(data), { mode: 0o600 });
        fs.renameSync(tmp, l.cacheFile);
        // Caches of older builds and Node versions of the same file are dead weight, and so is a
        // temporary file a killed process left (one being written now is younger than a minute).
        const prefix = `${path.basename(l.file)}-`;
        for (const name of fs.readdirSync(this.dir!)) {
          if (!name.startsWith(prefix) || name === path.basename(l.cacheFile)) continue;
          const other = path.join(this.dir!, name);
          if (!name.endsWith('.tmp') || Date.now() - fs.statSync(other).mtimeMs > 60_000) fs.rmSync(other, { force: true });
        }
      } catch {
        // read-only home, full disk: the next run compiles as this one did
      }
    }
  }
}

// A cache file: "PGV8", the payload's length and CRC-32 (little-endian u32 each), the payload.
const MAGIC = 0x38564750;
const HEADER = 12;

function seal(data: Buffer): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(data.length, 4);
  header.writeUInt32LE(crc32(data), 8);
  return Buffer.concat([header, data]);
}

/** The payload of an intact cache file, else undefined. */
export function unseal(file: Buffer): Buffer | undefined {
  if (file.length < HEADER || file.readUInt32LE(0) !== MAGIC) return undefined;
  const data = file.subarray(HEADER);
  return data.length === file.readUInt32LE(4) && crc32(data) === file.readUInt32LE(8) ? data : undefined;
}
