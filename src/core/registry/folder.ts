import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { readFileIfExists, writeFileAtomic } from '../fsutil';

/**
 * The storage a registry needs: read files, and change several of them as one step that no other
 * writer interleaves with. The folder backend uses a lock file; a git backend commits and pushes.
 */
export interface RegistryStore {
  /** Where it is, for messages. */
  readonly location: string;
  read(rel: string): Promise<string | undefined>;
  list(rel: string): Promise<string[]>;
  /** A cheap mark of a file's state (size and modification time), where the store can give one. */
  mark?(rel: string): Promise<string>;
  /** Brings what `read` sees up to date with the shared copy (a git fetch; nothing for a folder). */
  refresh(): Promise<void>;
  /** Runs `fn` alone among writers; its writes land atomically, file by file. */
  transaction<T>(what: string, fn: (write: (rel: string, text: string) => Promise<void>) => Promise<T>): Promise<T>;
}

interface LockInfo {
  pid: number;
  host: string;
  at: number;
}

/** A registry in a plain folder (the default; also fine on a shared drive). */
export class FolderRegistryStore implements RegistryStore {
  constructor(
    readonly location: string,
    private readonly options: { staleMs?: number; waitMs?: number } = {},
  ) {}

  read(rel: string): Promise<string | undefined> {
    return readFileIfExists(path.join(this.location, rel));
  }

  async refresh(): Promise<void> {}

  async mark(rel: string): Promise<string> {
    const st = await fs.stat(path.join(this.location, rel)).catch(() => undefined);
    return st ? `${st.size}:${st.mtimeMs}` : '-';
  }

  async list(rel: string): Promise<string[]> {
    try {
      return (await fs.readdir(path.join(this.location, rel))).sort();
    } catch {
      return [];
    }
  }

  async transaction<T>(what: string, fn: (write: (rel: string, text: string) => Promise<void>) => Promise<T>): Promise<T> {
    await fs.mkdir(this.location, { recursive: true });
    const release = await this.lock(what);
    try {
      return await fn((rel, text) => writeFileAtomic(path.join(this.location, rel), text));
    } finally {
      await release();
    }
  }

  /**
   * Takes the lock: the folder `.lock` holding one file named by its holder's token. It is made
   * whole under a private name and renamed into place, which succeeds only where no lock is (or an
   * empty one left by a killed releaser). A lock whose holder died (same host, no such process), or
   * that is older than staleMs on another host, is taken over by unlinking the holder's own file:
   * only one writer's unlink of that name can succeed, so two writers that both judged it stale
   * never both take it, and no writer ever removes a lock it did not judge stale.
   */
  private async lock(what: string): Promise<() => Promise<void>> {
    const dir = path.join(this.location, '.lock');
    const staleMs = this.options.staleMs ?? 60_000;
    const deadline = Date.now() + (this.options.waitMs ?? 30_000);
    const token = `${process.pid}-${randomBytes(8).toString('hex')}`;
    const mine: LockInfo = { pid: process.pid, host: os.hostname(), at: Date.now() };
    const own = path.join(dir, `${token}.json`);
    for (let attempt = 0; ; attempt++) {
      const staging = path.join(this.location, `.lock-${token}.tmp`);
      await fs.mkdir(staging, { recursive: true });
      await fs.writeFile(path.join(staging, `${token}.json`), JSON.stringify({ ...mine, at: Date.now(), what }));
      try {
        await fs.rename(staging, dir);
        await this.sweep(staleMs);
        return async () => {
          // Only our own file; the folder goes when it is empty (another writer may already have
          // renamed its lock over the emptied folder, which rmdir then leaves alone).
          await fs.rm(own, { force: true });
          await fs.rmdir(dir).catch(() => undefined);
        };
      } catch (err) {
        await fs.rm(staging, { recursive: true, force: true });
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR' && code !== 'EPERM' && code !== 'EACCES') throw err;
      }
      const holder = await this.holder(dir);
      if (!holder) {
        // Released (or being released) just now: try again at once. An empty `.lock` is nobody's
        // (a releaser killed between its two steps); rmdir removes it only while it is empty.
        await fs.rmdir(dir).catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`the registry at ${this.location} could not be locked: ${dir} is in the way`);
        continue;
      }
      if (holder.host === mine.host ? !alive(holder.pid) : Date.now() - holder.at > staleMs) {
        // Claim the takeover by removing that holder's file; whoever fails to has lost the race.
        // (A `.lock` file of an earlier PromptGate has no such claim: it is simply removed.)
        const claimed = holder.file === undefined ? fs.rm(dir, { force: true }) : fs.unlink(path.join(dir, holder.file)).then(() => fs.rmdir(dir).catch(() => undefined));
        await claimed.catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`the registry at ${this.location} is locked by process ${holder.pid} on ${holder.host} since ${new Date(holder.at).toISOString()}`);
      await new Promise((r) => setTimeout(r, Math.min(200, 10 * 2 ** Math.min(attempt, 5)) + Math.random() * 20));
    }
  }

  /** Staging folders of writers killed before their rename (a live one exists for milliseconds). */
  private async sweep(staleMs: number): Promise<void> {
    for (const name of await fs.readdir(this.location).catch(() => [] as string[])) {
      if (!/^\.lock-.*\.tmp$/.test(name)) continue;
      const p = path.join(this.location, name);
      const st = await fs.stat(p).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > Math.min(staleMs, 10_000)) await fs.rm(p, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /**
   * The holder of the lock folder, or nothing when it is gone or empty. A `.lock` file (no `file`)
   * is the lock of an earlier PromptGate.
   */
  private async holder(dir: string): Promise<(LockInfo & { file?: string }) | undefined> {
    const parse = (text: string): LockInfo => {
      try {
        return JSON.parse(text) as LockInfo;
      } catch {
        // Only whole files are renamed into place: an unreadable one is from a damaged disk.
        return { pid: -1, host: '?', at: 0 };
      }
    };
    const entries = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOTDIR' ? null : []));
    if (entries === null) {
      const text = await readFileIfExists(dir).catch(() => undefined);
      return text === undefined ? undefined : parse(text);
    }
    for (const file of entries.filter((f) => f.endsWith('.json'))) {
      const text = await readFileIfExists(path.join(dir, file)).catch(() => undefined);
      if (text !== undefined) return { ...parse(text), file };
    }
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
