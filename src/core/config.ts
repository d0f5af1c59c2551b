import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import type { Diagnostic } from './diagnostics';
import { z } from 'zod';
import { ConfigFileSchema, lazily, ProviderOptionsSchema, SamplesSchema, type Price, type ProviderOptions } from './schema';
import { YamlFile } from './yamlfile';
import { insideReally } from './fsutil';
import { DEFAULT_SAMPLING, DEFAULT_VERDICT_POLICY } from './sampling';
import { DEFAULT_JUDGE, type JudgeSettings } from './judge';
import type { SamplingPolicy, VerdictPolicy } from './types/verdicts';

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
  baselinesDir: string;
  verdicts: VerdictPolicy;
  sampling: SamplingPolicy;
  judge: JudgeSettings & { provider: Partial<ProviderOptions>; onlyIfDeterministicPass: boolean };
  /** `path`: the folder registry; `url`: a git+URL registry, when the config names one. */
  registry: { path: string; url?: string; labels: Record<string, { suites?: string[]; minSamples?: number; allowRegressions?: boolean }> };
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

/** Reads the project's promptgate.config.yml through `readFile` (an editor passes its unsaved buffers). */
export async function loadConfig(root: string, readFile: (file: string) => Promise<string> = (f) => fs.readFile(f, 'utf8')): Promise<{ config: ResolvedConfig; diagnostics: Diagnostic[] }> {
  const file = path.join(root, CONFIG_FILE);
  const defaults: ResolvedConfig = {
    root,
    concurrency: 8,
    provider: {},
    prices: {},
    cacheDir: path.join(root, '.promptgate', 'cache'),
    runsDir: path.join(root, '.promptgate', 'runs'),
    cassettesDir: path.join(root, '.promptgate', 'cassettes'),
    baselinesDir: path.join(root, '.promptgate', 'baselines'),
    registry: { path: path.join(root, '.promptgate', 'registry'), labels: Object.create(null) as Record<string, never> },
    verdicts: DEFAULT_VERDICT_POLICY,
    sampling: DEFAULT_SAMPLING,
    judge: { ...DEFAULT_JUDGE, provider: {}, onlyIfDeterministicPass: true },
  };
  let text: string;
  try {
    text = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { config: defaults, diagnostics: await outsideDirs(root, defaults, () => ({ file: path.join(root, '.promptgate') })) };
    throw err;
  }
  const { yaml, diagnostics } = YamlFile.parse(file, text);
  if (!yaml) return { config: defaults, diagnostics };
  const parsed = ConfigFileSchema.safeParse(yaml.data ?? {});
  if (!parsed.success) return { config: defaults, diagnostics: yaml.schemaDiagnostics(parsed.error) };
  const c = parsed.data;
  const min = c.sampling?.min ?? DEFAULT_SAMPLING.min;
  const max = c.sampling?.max ?? DEFAULT_SAMPLING.max;
  if (min > max) {
    return { config: defaults, diagnostics: [{ file, range: yaml.rangeOf(['sampling']), message: `sampling.min (${min}) is above sampling.max (${max})`, severity: 'error', code: 'schema' }] };
  }
  const config: ResolvedConfig = {
      ...defaults,
      configFile: file,
      concurrency: c.concurrency ?? defaults.concurrency,
      provider: c.provider ?? {},
      prices: c.prices ?? {},
      cacheDir: c.cacheDir ? path.resolve(root, c.cacheDir) : defaults.cacheDir,
      runsDir: c.runsDir ? path.resolve(root, c.runsDir) : defaults.runsDir,
      cassettesDir: c.cassettesDir ? path.resolve(root, c.cassettesDir) : defaults.cassettesDir,
      baselinesDir: c.baselinesDir ? path.resolve(root, c.baselinesDir) : defaults.baselinesDir,
      verdicts: { ...DEFAULT_VERDICT_POLICY, ...c.verdicts },
      sampling: { ...DEFAULT_SAMPLING, ...c.sampling },
      registry: {
        path: c.registry?.path && !c.registry.path.startsWith('git+') ? path.resolve(root, c.registry.path) : defaults.registry.path,
        url: c.registry?.path?.startsWith('git+') ? c.registry.path : undefined,
        // No prototype: a label named `constructor` or `toString` has no policy unless the file gives one.
        labels: Object.assign(Object.create(null), c.registry?.labels),
      },
      judge: {
        model: c.judge?.model ?? DEFAULT_JUDGE.model,
        embeddingModel: c.judge?.embeddingModel ?? DEFAULT_JUDGE.embeddingModel,
        samples: c.judge?.samples ?? DEFAULT_JUDGE.samples,
        provider: { ...c.provider, ...c.judge?.provider },
        onlyIfDeterministicPass: c.judge?.onlyIfDeterministicPass ?? true,
      },
  };
  const outside = await outsideDirs(root, config, (key) => ({ file, range: c[key] !== undefined ? yaml.rangeOf([key]) : undefined }));
  return outside.length ? { config: defaults, diagnostics: outside } : { config, diagnostics: [] };
}

/**
 * What a run writes stays in the project: a cloned repository's settings (or a `.promptgate` that is
 * a link) must not make PromptGate write elsewhere. Checked on real paths.
 */
async function outsideDirs(root: string, config: ResolvedConfig, where: (key: 'cacheDir' | 'runsDir' | 'cassettesDir' | 'baselinesDir') => Pick<Diagnostic, 'file' | 'range'>): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  for (const key of ['cacheDir', 'runsDir', 'cassettesDir', 'baselinesDir'] as const) {
    if (await insideReally(root, config[key])) continue;
    out.push({ ...where(key), message: `${key} ${path.relative(root, config[key]) || config[key]} is outside the project (${root}), or a link to a place outside it; what PromptGate writes stays inside the project`, severity: 'error', code: 'schema' });
  }
  return out;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/** The editor's settings, checked with the same schemas as the files (concurrency, base URL, samples); built on first use (see lazily). */
export const editorSettingsSchema = lazily(() =>
  z
    .object({
      runOnSave: z.boolean().default(true),
      baseURL: z.union([z.literal(''), ProviderOptionsSchema.shape.baseURL.unwrap()]).default(''),
      concurrency: ConfigFileSchema.shape.concurrency.nullable().default(null),
      samples: SamplesSchema.nullable().default(null),
      /** USD: a run from the editor estimated above this asks first. */
      budget: z.number().gt(0).nullable().default(null),
      /** A registry folder or git+URL for this workspace (empty: PROMPTGATE_REGISTRY, else promptgate.config.yml). */
      registry: z.string().trim().refine((v) => v !== 'git+', 'git+ needs a URL after it').default(''),
      /** How often a git registry is fetched for others' promotions (0: only on focus and after commands). */
      registryRefreshSeconds: z.number().int().min(0).max(86_400).default(60),
      /** Run python assertions (machine scope: a workspace cannot turn it on; only in trusted workspaces). */
      allowPython: z.boolean().default(false),
    })
    .strip(),
);

export type EditorSettings = z.infer<ReturnType<typeof editorSettingsSchema>>;

/** Valid settings, with each invalid one replaced by its default and named in `problems`. */
export function parseEditorSettings(raw: Record<string, unknown>): { settings: EditorSettings; problems: string[] } {
  const problems: string[] = [];
  const clean: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(editorSettingsSchema().shape)) {
    const r = (schema as z.ZodType).safeParse(raw[key] ?? undefined);
    if (r.success) clean[key] = r.data;
    else problems.push(`promptgate.${key}: ${r.error.issues[0]?.message ?? 'invalid'}; using the default`);
  }
  return { settings: editorSettingsSchema().parse(clean), problems };
}
