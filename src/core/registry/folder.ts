import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
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
   * Takes `.lock` (created exclusively). A lock whose holder died (same host, no such process) or
   * that is older than staleMs is taken over, so a killed writer never blocks the registry.
   */
  private async lock(what: string): Promise<() => Promise<void>> {
    const file = path.join(this.location, '.lock');
    const staleMs = this.options.staleMs ?? 60_000;
    const deadline = Date.now() + (this.options.waitMs ?? 30_000);
    const mine: LockInfo = { pid: process.pid, host: os.hostname(), at: Date.now() };
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await fs.open(file, 'wx');
        await handle.writeFile(JSON.stringify({ ...mine, what }));
        await handle.close();
        return async () => {
          await fs.rm(file, { force: true });
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await this.holder(file);
      if (!holder || Date.now() - holder.at > staleMs || (holder.host === mine.host && !alive(holder.pid))) {
        // Stale: remove it only if it is still the same lock we looked at, then try again.
        const again = await this.holder(file);
        if (!again || (holder && again.at === holder.at && again.pid === holder.pid)) await fs.rm(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`the registry at ${this.location} is locked by process ${holder.pid} on ${holder.host} since ${new Date(holder.at).toISOString()}`);
      await new Promise((r) => setTimeout(r, Math.min(200, 10 * 2 ** Math.min(attempt, 5)) + Math.random() * 20));
    }
  }

  private async holder(file: string): Promise<LockInfo | undefined> {
    const text = await readFileIfExists(file);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as LockInfo;
    } catch {
      // Written by a process killed between create and write: stale unless it is brand new.
      const stat = await fs.stat(file).catch(() => undefined);
      return stat && Date.now() - stat.mtimeMs < 2_000 ? { pid: -1, host: '?', at: stat.mtimeMs } : undefined;
    }
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
