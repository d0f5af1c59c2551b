import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes a file so that readers see either the old or the new content, never a part:
 * the data goes to a temporary sibling which is then renamed over the target. `data` may come
 * in pieces (an async iterable), for a file too large to build as one string.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array | AsyncIterable<string>): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await fs.open(tmp, 'w');
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) await handle.writeFile(data);
      else for await (const piece of data) await handle.write(piece);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

export async function readFileIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Whether `file` is strictly inside `root`, by their paths as written (`...x` is a name, not `..`). */
export function insideLexically(root: string, file: string): boolean {
  const r = path.relative(path.resolve(root), path.resolve(file));
  return r !== '' && r !== '..' && !r.startsWith(`..${path.sep}`) && !path.isAbsolute(r);
}

/**
 * The real path of `p`, following every symbolic link; for a path that does not exist (yet), the
 * real path of its nearest existing folder with the rest appended.
 */
export async function realPath(p: string): Promise<string> {
  const abs = path.resolve(p);
  try {
    return await fs.realpath(abs);
  } catch (err) {
    const parent = path.dirname(abs);
    if (parent === abs || (err as NodeJS.ErrnoException).code !== 'ENOENT') return abs;
    return path.join(await realPath(parent), path.basename(abs));
  }
}

/**
 * Whether `file` is inside `root` once symbolic links are followed: a link in the project to
 * /proc/self/environ is not. `realRoot` (root's real path) spares resolving it again per file.
 */
export async function insideReally(root: string, file: string, realRoot: string | Promise<string> = realPath(root)): Promise<boolean> {
  return insideLexically(root, file) && insideLexically(await realRoot, await realPath(file));
}
