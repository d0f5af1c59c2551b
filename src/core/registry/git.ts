import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFileIfExists, writeFileAtomic } from '../fsutil';
import { FolderRegistryStore, type RegistryStore } from './folder';

// Loaded on first use: only registry commands run git, and every CLI start would pay for it.
const childProcess = () => require('node:child_process') as typeof import('node:child_process');

const BRANCH = 'main';

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    childProcess().execFile('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function must(cwd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await git(cwd, args, env);
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/**
 * A registry in a git repository: any remote the user's git reaches (its credentials, its access
 * control). PromptGate works in a local clone it keeps up to date; a transaction fetches, applies
 * its change, commits and pushes, and when the push is rejected because someone else pushed first,
 * it fetches again and re-applies the change to the new state, so no update is lost.
 */
export class GitRegistryStore implements RegistryStore {
  readonly location: string;
  private readonly dir: string;
  private readonly mutex: FolderRegistryStore;
  private readonly hostMutex?: FolderRegistryStore;
  private readonly patienceMs: number;
  private synced = false;

  constructor(
    private readonly url: string,
    cacheDir: string,
    private readonly identity: { name: string; email: string },
    options: {
      /** How long a transaction keeps trying when others push first (every rejection backs off). */
      patienceMs?: number;
      /** Writers on this machine take turns (default); off, only rejected pushes keep them apart. */
      sameHostTurns?: boolean;
    } = {},
  ) {
    this.location = url;
    const id = createHash('sha256').update(url).digest('hex').slice(0, 16);
    this.dir = path.join(cacheDir, 'registries', id);
    this.patienceMs = options.patienceMs ?? 300_000;
    // One process at a time works in this clone.
    this.mutex = new FolderRegistryStore(`${this.dir}.lock`, { waitMs: 120_000 });
    // Writers of one remote on one machine (parallel CI jobs, several clones) push in turn: racing
    // each other only wastes fetch-commit-push rounds (16 clones at once: 82 s with rejections and
    // backoff alone, measured). Writers on other machines are still kept apart by rejected pushes.
    if (options.sameHostTurns !== false) this.hostMutex = new FolderRegistryStore(path.join(os.tmpdir(), `promptgate-registry-${id}`), { waitMs: this.patienceMs });
  }

  async read(rel: string): Promise<string | undefined> {
    await this.ensureSynced();
    return readFileIfExists(path.join(this.dir, rel));
  }

  async list(rel: string): Promise<string[]> {
    await this.ensureSynced();
    try {
      return (await fs.readdir(path.join(this.dir, rel))).sort();
    } catch {
      return [];
    }
  }

  async transaction<T>(what: string, fn: (write: (rel: string, text: string) => Promise<void>) => Promise<T>): Promise<T> {
    if (this.hostMutex) return this.hostMutex.transaction(what, () => this.pushed(what, fn));
    return this.pushed(what, fn);
  }

  /** Applies `fn` to the remote's state and pushes it, again on the new state when others pushed first. */
  private pushed<T>(what: string, fn: (write: (rel: string, text: string) => Promise<void>) => Promise<T>): Promise<T> {
    return this.mutex.transaction(what, async () => {
      let last = '';
      const deadline = Date.now() + this.patienceMs;
      for (let attempt = 0; ; attempt++) {
        if (attempt === 0) await this.sync();
        else {
          // After a rejected push only the remote moved: take its state (fewer git calls than a full
          // sync, so the window in which another writer can push first stays short).
          await must(this.dir, ['fetch', '-q', 'origin']);
          await must(this.dir, ['reset', '-q', '--hard', `origin/${BRANCH}`]);
          await must(this.dir, ['clean', '-q', '-fdx']);
        }
        const result = await fn((rel, text) => writeFileAtomic(path.join(this.dir, rel), text));
        await must(this.dir, ['add', '-A']);
        if ((await git(this.dir, ['diff', '--cached', '--quiet'])).code === 0) return result; // nothing changed
        const env = { GIT_AUTHOR_NAME: this.identity.name, GIT_AUTHOR_EMAIL: this.identity.email, GIT_COMMITTER_NAME: this.identity.name, GIT_COMMITTER_EMAIL: this.identity.email };
        await must(this.dir, ['commit', '-q', '-m', `promptgate: ${what}`], env);
        const push = await git(this.dir, ['push', '-q', 'origin', `HEAD:refs/heads/${BRANCH}`]);
        if (push.code === 0) return result;
        last = (push.stderr || push.stdout).trim();
        if (!/rejected|fetch first|non-fast-forward|failed to update ref|cannot lock ref/i.test(last)) throw new Error(`git push to ${this.url} failed: ${last}`);
        // Someone pushed first: drop our commit, take theirs, and apply the change again, after a
        // full-jitter exponential backoff (ceiling 15 s) so that writers on several machines spread
        // out instead of colliding again. 16 such writers at once all landed, in 77-82 s with a 4 s
        // or a 15 s ceiling alike (measured); the patience, not the ceiling, is what must be long.
        const pause = Math.random() * Math.min(15_000, 100 * 2 ** Math.min(attempt, 10));
        if (Date.now() + pause > deadline) throw new Error(`git push to ${this.url} was rejected ${attempt + 1} times in ${Math.round(this.patienceMs / 1000)} s (others kept pushing first): ${last}`);
        await new Promise((r) => setTimeout(r, pause));
      }
    });
  }

  private async ensureSynced(): Promise<void> {
    if (this.synced) return;
    await this.refresh();
  }

  /** Fetches what others pushed (the editor calls it when it looks at the registry again). */
  async refresh(): Promise<void> {
    await this.mutex.transaction('sync', () => this.sync());
  }

  /** Clones once, then fetches and moves the working tree to the remote's state. */
  private async sync(): Promise<void> {
    const clone = async () => {
      await fs.mkdir(path.dirname(this.dir), { recursive: true });
      await fs.rm(this.dir, { recursive: true, force: true });
      await must(path.dirname(this.dir), ['clone', '-q', this.url, this.dir]);
    };
    if (!(await fs.stat(path.join(this.dir, '.git')).then(() => true, () => false))) await clone();
    else {
      await this.removeStaleGitLocks();
      // The clone is only a cache of the remote: one a killed git left unusable is cloned again.
      const origin = await git(this.dir, ['config', '--get', 'remote.origin.url']);
      if (origin.code !== 0 || origin.stdout.trim() !== this.url) await clone();
      else await must(this.dir, ['fetch', '-q', 'origin']);
    }
    const remote = await git(this.dir, ['rev-parse', '--verify', '-q', `refs/remotes/origin/${BRANCH}`]);
    if (remote.code === 0) {
      await must(this.dir, ['checkout', '-q', '-B', BRANCH, `origin/${BRANCH}`]);
      await must(this.dir, ['reset', '-q', '--hard', `origin/${BRANCH}`]);
    } else {
      // An empty remote: start the branch from nothing.
      await git(this.dir, ['checkout', '-q', '--orphan', BRANCH]);
      await git(this.dir, ['reset', '-q', '--hard']);
    }
    await must(this.dir, ['clean', '-q', '-fdx']);
    this.synced = true;
  }

  /**
   * Lock files git leaves when it is killed (index.lock, HEAD.lock, ref locks). Only PromptGate works
   * in this clone and it holds the clone's mutex here, so any that exist belong to a dead process
   * (or to a git that process started, which gets three seconds to finish).
   */
  private async removeStaleGitLocks(): Promise<void> {
    const gitDir = path.join(this.dir, '.git');
    const walk = async (dir: string, depth: number): Promise<void> => {
      const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory() && depth < 6 && (dir !== gitDir || e.name === 'refs')) await walk(p, depth + 1);
        else if (e.isFile() && e.name.endsWith('.lock')) {
          // A git the dead process started may still be finishing (it outlives its parent): give a
          // young lock a moment to go away on its own before removing it.
          for (let waited = 0; waited < 3_000; waited += 100) {
            const stat = await fs.stat(p).catch(() => undefined);
            if (!stat || Date.now() - stat.mtimeMs > 3_000) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          await fs.rm(p, { force: true });
        }
      }
    };
    await walk(gitDir, 0);
  }
}
