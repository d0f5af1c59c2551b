/**
 * promptfoo configurations (`promptfooconfig.yaml`, or any YAML named on the command line) read as
 * they are: prompts × providers become PromptGate prompts, each with one suite holding the tests.
 * What PromptGate cannot run is a located error naming it, never a silent skip.
 */
import * as path from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { vendor } from '../vendor';
import { z } from 'zod';
import type { Diagnostic } from '../diagnostics';
import { lazily, type AssertionData, type PromptFileData, type ProviderOptions } from '../schema';
import { YamlFile, type PathSegment } from '../yamlfile';

export const PROMPTFOO_FILE = /^promptfooconfig\.ya?ml$/i;

/** A promptfoo configuration and its tests as PromptGate reads them (built on first use: see lazily). */
const schemas = lazily(() => {
  const assertion = z.object({ type: z.string().min(1) }).passthrough();
  const test = z
    .object({
      description: z.string().optional(),
      vars: z.record(z.string(), z.unknown()).optional(),
      assert: z.array(z.union([assertion, z.object({ $ref: z.string() }).strict()])).optional(),
      threshold: z.number().min(0).max(1).optional(),
      metadata: z.record(z.string(), z.unknown()).optional(),
      options: z.record(z.string(), z.unknown()).optional(),
      providers: z.array(z.string()).optional(),
    })
    .strict();

  const config = z
    .object({
      description: z.string().optional(),
      tags: z.record(z.string(), z.unknown()).optional(),
      prompts: z.union([z.string(), z.array(z.union([z.string(), z.object({ id: z.string().optional(), raw: z.string().optional(), label: z.string().optional() }).strict()]))]),
      providers: z.union([z.string(), z.array(z.union([z.string(), z.object({ id: z.string(), label: z.string().optional(), config: z.record(z.string(), z.unknown()).optional() }).strict()]))]),
      defaultTest: test.optional(),
      tests: z.union([z.string(), z.array(z.union([z.string(), test]))]).optional(),
      assertionTemplates: z.record(z.string(), assertion).optional(),
      evaluateOptions: z.object({ maxConcurrency: z.number().int().min(1).optional(), repeat: z.number().int().min(1).optional(), delay: z.number().optional(), showProgressBar: z.boolean().optional(), cache: z.boolean().optional() }).strict().optional(),
      outputPath: z.union([z.string(), z.array(z.string())]).optional(),
      sharing: z.unknown().optional(),
      writeLatestResults: z.boolean().optional(),
      // Present in promptfoo but not runnable here: reported by name.
      scenarios: z.unknown().optional(),
      redteam: z.unknown().optional(),
      extensions: z.unknown().optional(),
      nunjucksFilters: z.unknown().optional(),
      env: z.unknown().optional(),
    })
    .strict();
  return { config, test };
});

export const promptfooConfigSchema = () => schemas().config;
export type PromptfooConfig = z.infer<ReturnType<typeof promptfooConfigSchema>>;
type PromptfooTest = z.infer<ReturnType<typeof schemas>['test']>;

const chatSchema = lazily(() => z.array(z.object({ role: z.enum(['system', 'developer', 'user', 'assistant']), content: z.string() }).strict()).min(1));

export interface PfPrompt {
  label: string;
  messages: PromptFileData['messages'];
  /** Where the prompt is listed in the config. */
  path: PathSegment[];
}

export interface PfProvider {
  label: string;
  model: string;
  provider: Partial<ProviderOptions> & { id: string };
  parameters: PromptFileData['modelParameters'];
  /** Response format and tools from the provider's config. */
  request: Pick<PromptFileData, 'responseFormat' | 'jsonSchema' | 'tools' | 'toolChoice'>;
  path: PathSegment[];
}

export interface PfTest {
  /** The file the test is written in (the config, or a tests file), parsed for locations; undefined for CSV. */
  yaml?: YamlFile;
  file: string;
  path: PathSegment[];
  key: string;
  name: string;
  description?: string;
  vars: Record<string, unknown>;
  varsPath: PathSegment[];
  assertions: { a: AssertionData; path: PathSegment[]; yaml?: YamlFile }[];
  threshold?: number;
  /** Provider labels or ids the test is limited to. */
  providers?: string[];
  metadata?: Record<string, unknown>;
}

export interface PromptfooProject {
  prompts: PfPrompt[];
  providers: PfProvider[];
  tests: PfTest[];
  repeat?: number;
  concurrency?: number;
}

type Read = (file: string) => Promise<string>;

function fileRef(value: unknown): string | undefined {
  return typeof value === 'string' && value.startsWith('file://') ? value.slice('file://'.length) : undefined;
}

/** A provider id as promptfoo writes it, as PromptGate's openai (or echo) provider. */
export function mapProvider(id: string, config: Record<string, unknown> = {}): { model: string; provider: PfProvider['provider']; parameters: PfProvider['parameters']; request: PfProvider['request']; unsupported?: string } | { error: string } {
  let model: string | undefined;
  if (id === 'echo') model = 'echo';
  else {
    const m = /^openai:(?:(chat|responses|completion):)?(.+)$/.exec(id);
    if (!m) return { error: `provider '${id}' is not supported: PromptGate runs openai:chat:MODEL, openai:MODEL, openai:responses:MODEL (sent as chat) and echo` };
    if (m[1] === 'completion') return { error: `provider '${id}': legacy completions are not supported; use openai:chat:${m[2]}` };
    model = m[2];
  }
  const known = new Set(['temperature', 'max_tokens', 'max_completion_tokens', 'top_p', 'seed', 'stop', 'presence_penalty', 'frequency_penalty', 'apiBaseUrl', 'apiHost', 'apiKeyEnvar', 'timeout', 'maxRetries', 'response_format', 'tools', 'tool_choice']);
  const rf = config.response_format as { type?: string; json_schema?: Record<string, unknown> } | undefined;
  const request: PfProvider['request'] = {
    responseFormat: rf?.type === 'json_object' || rf?.type === 'json_schema' ? rf.type : undefined,
    jsonSchema: rf?.type === 'json_schema' ? rf.json_schema : undefined,
    tools: config.tools as PromptFileData['tools'],
    toolChoice: config.tool_choice as PromptFileData['toolChoice'],
  };
  const unknown = Object.keys(config).filter((k) => !known.has(k));
  const num = (k: string) => (typeof config[k] === 'number' ? (config[k] as number) : undefined);
  const baseURL = typeof config.apiBaseUrl === 'string' ? config.apiBaseUrl : typeof config.apiHost === 'string' ? `https://${config.apiHost}/v1` : undefined;
  return {
    model,
    provider: { id: id === 'echo' ? 'echo' : 'openai', ...(baseURL ? { baseURL } : {}), ...(typeof config.apiKeyEnvar === 'string' ? { apiKeyEnv: config.apiKeyEnvar } : {}), ...(num('timeout') ? { timeoutMs: num('timeout') } : {}), ...(num('maxRetries') !== undefined ? { maxRetries: num('maxRetries') } : {}) },
    parameters: {
      temperature: num('temperature'),
      maxTokens: num('max_tokens') ?? num('max_completion_tokens'),
      topP: num('top_p'),
      seed: num('seed'),
      stop: (typeof config.stop === 'string' || Array.isArray(config.stop) ? config.stop : undefined) as string | string[] | undefined,
      presencePenalty: num('presence_penalty'),
      frequencyPenalty: num('frequency_penalty'),
    },
    request,
    unsupported: unknown.length ? `provider config ${unknown.map((k) => `'${k}'`).join(', ')} not supported by PromptGate` : undefined,
  };
}

/**
 * promptfoo's one-line assertions (CSV `__expected` columns): `type:value`, `type(threshold):value`,
 * `not-type:value`, `javascript:`/`fn:`, `grade:`/`llm-rubric:`, `is-json`; anything else is `equals`.
 */
export function assertionFromShorthand(text: string, knownTypes: readonly string[]): AssertionData {
  for (const prefix of ['javascript:', 'fn:', 'eval:']) if (text.startsWith(prefix)) return { type: 'javascript', value: text.slice(prefix.length).trim(), weight: 1 };
  for (const prefix of ['grade:', 'llm-rubric:']) if (text.startsWith(prefix)) return { type: 'llm-rubric', value: text.slice(prefix.length), weight: 1 };
  const m = /^(not-)?([a-z][a-z-]*)(?:\((\d+(?:\.\d+)?)\))?(?::([\s\S]*))?$/.exec(text);
  if (m && knownTypes.includes(m[2])) {
    const [, not, type, threshold, value] = m;
    const list = ['contains-any', 'contains-all', 'icontains-any', 'icontains-all'].includes(type);
    return {
      type: `${not ?? ''}${type}`,
      value: value === undefined ? undefined : list ? value.split(',').map((v) => v.trim()) : type === 'equals' || type === 'regex' ? value : value.trim(),
      threshold: threshold !== undefined ? Number(threshold) : type === 'similar' ? 0.8 : undefined,
      weight: 1,
    };
  }
  return { type: 'equals', value: text, weight: 1 };
}

const slug = (t: string) => t.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || undefined;

/** Reads the config's prompts, providers and tests (with the files they name). */
export async function readPromptfoo(yaml: YamlFile, config: PromptfooConfig, read: Read, knownTypes: readonly string[], diagnostics: Diagnostic[]): Promise<PromptfooProject> {
  const dir = path.dirname(yaml.file);
  const err = (at: PathSegment[], message: string, file = yaml, severity: 'error' | 'warning' = 'error') => diagnostics.push({ file: file.file, range: file.rangeOf(at), message, severity, code: 'promptfoo' });
  for (const key of ['scenarios', 'redteam', 'extensions', 'nunjucksFilters', 'env'] as const) if (config[key] !== undefined) err([key], `'${key}' is not supported by PromptGate`);

  // Prompts: inline text, file:// text (several separated by --- lines), file:// JSON chat messages.
  const prompts: PfPrompt[] = [];
  const promptList = typeof config.prompts === 'string' ? [config.prompts] : config.prompts;
  const listPath = (i: number): PathSegment[] => (typeof config.prompts === 'string' ? ['prompts'] : ['prompts', i]);
  for (const [i, entry] of promptList.entries()) {
    const raw = typeof entry === 'string' ? entry : (entry.raw ?? entry.id ?? '');
    const label = typeof entry === 'string' ? undefined : entry.label;
    const ref = fileRef(raw);
    if (!ref) {
      // As in promptfoo, a prompt that is a JSON list of {role, content} is a chat prompt.
      const chat = raw.trim().startsWith('[') ? chatSchema().safeParse(safeJson(raw)) : undefined;
      prompts.push({ label: label ?? (promptList.length > 1 ? `prompt ${i + 1}` : 'prompt'), messages: chat?.success ? chat.data : [{ role: 'user', content: raw }], path: listPath(i) });
      continue;
    }
    let text: string;
    try {
      text = await read(path.resolve(dir, ref));
    } catch (e) {
      err(listPath(i), `cannot read prompt ${ref}: ${(e as Error).message}`);
      continue;
    }
    if (/\.json$/i.test(ref)) {
      const parsed = chatSchema().safeParse(safeJson(text));
      if (!parsed.success) err(listPath(i), `${ref} is not a JSON chat prompt (a list of {role, content})`);
      else prompts.push({ label: label ?? ref, messages: parsed.data, path: listPath(i) });
    } else if (/\.(txt|md|j2|jinja|nunjucks|prompt)$/i.test(ref) || !path.extname(ref)) {
      const parts = text.split(/^---\s*$/m).map((t) => t.trim()).filter(Boolean);
      parts.forEach((content, k) => prompts.push({ label: label ? (parts.length > 1 ? `${label} ${k + 1}` : label) : parts.length > 1 ? `${ref} ${k + 1}` : ref, messages: [{ role: 'user', content }], path: listPath(i) }));
    } else err(listPath(i), `prompt ${ref}: only text and JSON chat prompt files are supported (.js and .py prompt functions are not)`);
  }

  // Providers.
  const providers: PfProvider[] = [];
  const providerList = typeof config.providers === 'string' ? [config.providers] : config.providers;
  for (const [i, entry] of providerList.entries()) {
    const at: PathSegment[] = typeof config.providers === 'string' ? ['providers'] : typeof entry === 'string' ? ['providers', i] : ['providers', i, 'id'];
    const id = typeof entry === 'string' ? entry : entry.id;
    const mapped = mapProvider(id, typeof entry === 'string' ? {} : entry.config);
    if ('error' in mapped) {
      err(at, mapped.error);
      continue;
    }
    if (mapped.unsupported) err(typeof entry === 'string' ? at : ['providers', i, 'config'], mapped.unsupported);
    providers.push({ label: (typeof entry === 'string' ? undefined : entry.label) ?? id, model: mapped.model, provider: mapped.provider, parameters: mapped.parameters, request: mapped.request, path: at });
  }

  // Tests: inline, or file:// YAML, JSON or CSV (the whole list or one entry).
  const tests: PfTest[] = [];
  const templates = config.assertionTemplates ?? {};
  const assertionsOf = (file: YamlFile | undefined, at: PathSegment[], list: unknown[] | undefined): PfTest['assertions'] => {
    const out: PfTest['assertions'] = [];
    (list ?? []).forEach((a, j) => {
      const p = [...at, j];
      const ref = (a as { $ref?: string }).$ref;
      let data = a as Record<string, unknown>;
      if (ref !== undefined) {
        const name = /^#\/assertionTemplates\/(.+)$/.exec(ref)?.[1];
        if (!name || !templates[name]) {
          if (file) err(p, `$ref ${ref} names no assertionTemplates entry`, file);
          return;
        }
        data = templates[name];
      }
      const { type, value, threshold, weight, metric, provider, transform, ...rest } = data as Record<string, unknown>;
      for (const k of Object.keys(rest)) if (file) err([...p, k], `assertion field '${k}' is not supported by PromptGate`, file);
      out.push({ a: { type: String(type), value, threshold: threshold as number | undefined, weight: (weight as number | undefined) ?? 1, metric: metric as string | undefined, provider: provider as string | undefined, transform: transform as string | undefined }, path: p, yaml: file });
    });
    return out;
  };
  const loadVars = async (vars: Record<string, unknown> | undefined, file: YamlFile | undefined, at: PathSegment[]): Promise<Record<string, unknown>> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(vars ?? {})) {
      const ref = fileRef(v);
      if (!ref) {
        out[k] = v;
        continue;
      }
      if (/\.(js|ts|py|mjs|cjs)$/i.test(ref)) {
        if (file) err([...at, k], `variable '${k}': ${ref} is a script; PromptGate reads text, JSON and YAML files only`, file);
        continue;
      }
      try {
        const text = await read(path.resolve(dir, ref));
        out[k] = /\.json$/i.test(ref) ? JSON.parse(text) : /\.ya?ml$/i.test(ref) ? loadYaml(text) : text;
      } catch (e) {
        if (file) err([...at, k], `variable '${k}': cannot read ${ref}: ${(e as Error).message}`, file);
      }
    }
    return out;
  };
  const fromTest = async (t: PromptfooTest, file: YamlFile | undefined, fileName: string, at: PathSegment[], index: number): Promise<PfTest> => {
    const vars = await loadVars(t.vars, file, [...at, 'vars']);
    for (const k of Object.keys(t.options ?? {})) if (k !== 'provider' && k !== 'transform' && file) err([...at, 'options', k], `test option '${k}' is not supported by PromptGate`, file);
    const grader = typeof t.options?.provider === 'string' ? t.options.provider : undefined;
    // options.transform changes the output every assertion of the test sees.
    const outputTransform = typeof t.options?.transform === 'string' ? t.options.transform : undefined;
    const assertions = assertionsOf(file, [...at, 'assert'], t.assert).map((x) => {
      let a = grader && !x.a.provider && isJudged(x.a.type) ? { ...x.a, provider: grader } : x.a;
      if (outputTransform) {
        if (a.transform && file) err([...x.path, 'transform'], 'this assertion has its own transform and the test an options.transform: PromptGate applies one; put both in the assertion\'s', file);
        else a = { ...a, transform: outputTransform };
      }
      return { ...x, a };
    });
    const key = (t.description && slug(t.description)) ?? `test-${index + 1}`;
    return { yaml: file, file: fileName, path: at, key, name: t.description ?? `test ${index + 1}`, description: t.description, vars, varsPath: [...at, 'vars'], assertions, threshold: t.threshold, providers: t.providers, metadata: t.metadata };
  };
  const fromFile = async (ref: string, at: PathSegment[]): Promise<void> => {
    const full = path.resolve(dir, ref);
    let text: string;
    try {
      text = await read(full);
    } catch (e) {
      err(at, `cannot read tests ${ref}: ${(e as Error).message}`);
      return;
    }
    if (/\.csv$/i.test(ref)) {
      let rows: Record<string, string>[];
      try {
        rows = vendor.csvParse()(text, { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
      } catch (e) {
        err(at, `${ref}: ${(e as Error).message}`);
        return;
      }
      rows.forEach((row, r) => {
        const vars: Record<string, unknown> = {};
        const assertions: PfTest['assertions'] = [];
        const metadata: Record<string, unknown> = {};
        let description: string | undefined;
        let threshold: number | undefined;
        for (const [col, value] of Object.entries(row)) {
          if (col.startsWith('__expected')) {
            if (value.trim()) assertions.push({ a: assertionFromShorthand(value, knownTypes), path: at });
          } else if (col === '__description') description = value || undefined;
          else if (col === '__threshold') threshold = value ? Number(value) : undefined;
          else if (col.startsWith('__metadata:')) metadata[col.slice('__metadata:'.length)] = value;
          else if (col === '__metric') assertions.forEach((x) => (x.a.metric = value));
          else if (col.startsWith('__')) err(at, `${ref}: column '${col}' is not supported by PromptGate`);
          else vars[col] = value;
        }
        if (threshold !== undefined && Number.isNaN(threshold)) err(at, `${ref} row ${r + 2}: __threshold is not a number`);
        // Located at the config's tests entry: a CSV has no positions PromptGate keeps.
        tests.push({ file: yaml.file, path: at, key: (description && slug(description)) ?? `row-${r + 2}`, name: description ?? `${path.basename(ref)} row ${r + 2}`, description, vars, varsPath: at, assertions, threshold, metadata });
      });
      return;
    }
    if (!/\.(ya?ml|json)$/i.test(ref)) {
      err(at, `tests ${ref}: PromptGate reads tests from YAML, JSON and CSV files`);
      return;
    }
    const { yaml: tf, diagnostics: yd } = YamlFile.parse(full, text);
    diagnostics.push(...yd);
    if (!tf) return;
    const list = z.array(schemas().test).safeParse(tf.data);
    if (!list.success) {
      diagnostics.push(...tf.schemaDiagnostics(list.error));
      return;
    }
    for (const [k, t] of list.data.entries()) tests.push(await fromTest(t, tf, full, [k], tests.length));
  };
  if (typeof config.tests === 'string') {
    const ref = fileRef(config.tests);
    if (ref) await fromFile(ref, ['tests']);
    else err(['tests'], 'tests is a list or file://PATH');
  } else {
    for (const [i, t] of (config.tests ?? []).entries()) {
      if (typeof t === 'string') {
        const ref = fileRef(t);
        if (ref) await fromFile(ref, ['tests', i]);
        else err(['tests', i], 'a tests entry is a test or file://PATH');
      } else tests.push(await fromTest(t, yaml, yaml.file, ['tests', i], tests.length));
    }
  }

  // defaultTest: its variables under each test's, its assertions before each test's.
  const d = config.defaultTest;
  if (d) {
    const dv = await loadVars(d.vars, yaml, ['defaultTest', 'vars']);
    const da = assertionsOf(yaml, ['defaultTest', 'assert'], d.assert);
    const grader = typeof d.options?.provider === 'string' ? d.options.provider : undefined;
    for (const k of Object.keys(d.options ?? {})) if (k !== 'provider') err(['defaultTest', 'options', k], `test option '${k}' is not supported by PromptGate`);
    for (const t of tests) {
      t.vars = { ...dv, ...t.vars };
      t.assertions = [...da, ...t.assertions].map((x) => (grader && !x.a.provider && isJudged(x.a.type) ? { ...x, a: { ...x.a, provider: grader } } : x));
      t.threshold ??= d.threshold;
    }
  }
  // Duplicate keys get a number, so ids stay unique and stable while the order holds.
  const seen = new Map<string, number>();
  for (const t of tests) {
    const n = (seen.get(t.key) ?? 0) + 1;
    seen.set(t.key, n);
    if (n > 1) t.key = `${t.key}-${n}`;
  }
  return { prompts, providers, tests, repeat: config.evaluateOptions?.repeat, concurrency: config.evaluateOptions?.maxConcurrency };
}

const JUDGED = new Set(['llm-rubric', 'model-graded-closedqa', 'factuality', 'answer-relevance', 'similar']);
const isJudged = (type: string) => JUDGED.has(type.replace(/^not-/, ''));

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
