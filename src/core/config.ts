import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import type { Diagnostic } from './diagnostics';
import { ConfigFileSchema, type Price, type ProviderOptions } from './schema';
import { YamlFile } from './yamlfile';

export const CONFIG_FILE = 'promptgate.config.yml';

/** Project settings with defaults applied and directories made absolute. */
export interface ResolvedConfig {
  root: string;
  configFile?: string;
  concurrency: number;
  provider: Partial<ProviderOptions>;
  prices: Record<string, Price>;
  cacheDir: string;
  runsDir: string;
  cassettesDir: string;
}

/** The nearest folder at or above `start` holding promptgate.config.yml, else `start`. */
export async function findProjectRoot(start: string): Promise<string> {
  let dir = path.resolve(start);
  for (;;) {
    if (await exists(path.join(dir, CONFIG_FILE))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(start);
    dir = parent;
  }
}

export async function loadConfig(root: string): Promise<{ config: ResolvedConfig; diagnostics: Diagnostic[] }> {
  const file = path.join(root, CONFIG_FILE);
  const defaults: ResolvedConfig = {
    root,
    concurrency: 8,
    provider: {},
    prices: {},
    cacheDir: path.join(root, '.promptgate', 'cache'),
    runsDir: path.join(root, '.promptgate', 'runs'),
    cassettesDir: path.join(root, '.promptgate', 'cassettes'),
  };
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { config: defaults, diagnostics: [] };
    throw err;
  }
  const { yaml, diagnostics } = YamlFile.parse(file, text);
  if (!yaml) return { config: defaults, diagnostics };
  const parsed = ConfigFileSchema.safeParse(yaml.data ?? {});
  if (!parsed.success) return { config: defaults, diagnostics: yaml.schemaDiagnostics(parsed.error) };
  const c = parsed.data;
  return {
    config: {
      ...defaults,
      configFile: file,
      concurrency: c.concurrency ?? defaults.concurrency,
      provider: c.provider ?? {},
      prices: c.prices ?? {},
      cacheDir: c.cacheDir ? path.resolve(root, c.cacheDir) : defaults.cacheDir,
      runsDir: c.runsDir ? path.resolve(root, c.runsDir) : defaults.runsDir,
      cassettesDir: c.cassettesDir ? path.resolve(root, c.cassettesDir) : defaults.cassettesDir,
    },
    diagnostics: [],
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
