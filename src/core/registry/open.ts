import * as os from 'node:os';
import * as path from 'node:path';
import type { ResolvedConfig } from '../config';
import { FolderRegistryStore } from './folder';
import { GitRegistryStore } from './git';
import { Registry } from './registry';

/** Where the registry is: `--registry`, else PROMPTGATE_REGISTRY, else the project's config (default .promptgate/registry). */
export function registryLocation(config: ResolvedConfig, opts: { flag?: string; env: NodeJS.ProcessEnv; cwd: string }): { kind: 'git'; url: string } | { kind: 'folder'; path: string } {
  const where = opts.flag ?? (opts.env.PROMPTGATE_REGISTRY || undefined) ?? config.registry.url;
  if (where?.startsWith('git+')) return { kind: 'git', url: where.slice('git+'.length) };
  return { kind: 'folder', path: where ? path.resolve(opts.cwd, where) : config.registry.path };
}

/** Who is acting, for the audit log and git commits. */
export const registryActor = (env: NodeJS.ProcessEnv) => env.PROMPTGATE_ACTOR || env.USER || os.userInfo().username;

/** The registry the CLI and the editor work on; the same rules in both. */
export function openRegistry(config: ResolvedConfig, opts: { flag?: string; env: NodeJS.ProcessEnv; cwd: string }): Registry {
  const where = registryLocation(config, opts);
  if (where.kind === 'folder') return new Registry(new FolderRegistryStore(where.path));
  const name = registryActor(opts.env);
  return new Registry(new GitRegistryStore(where.url, config.cacheDir, { name, email: opts.env.PROMPTGATE_EMAIL || `${name}@promptgate.invalid` }));
}
