import * as path from 'node:path';
import { distance } from 'fastest-levenshtein';
import { promises as fs } from 'node:fs';
import type { Diagnostic, Range } from './diagnostics';
import { hashOf } from './canonical';
import { discoverFiles } from './discover';
import type { CaseSpec, PromptSpec, SuiteSpec } from './model';
import { assertionTypeNames, lookupAssertion, type PreparedAssertion } from './assertions/registry';
import { compileSchema } from './assertions/json';
import { compileTransform } from './assertions/javascript';
import { deepEqual } from './assertions/text';
import type { ProviderRequest } from './providers/types';
import {
  PromptFileSchema,
  SuiteFileSchema,
  type AssertionData,
  type PromptFileData,
  type SuiteData,
  type ProviderOptions,
  type VariableData,
} from './schema';
import { PROVIDERS } from './providers/registry';
import { plantCanary } from './redteam/canary';
import { promptfooConfigSchema, readPromptfoo } from './promptfoo';
import { PROMPTY_FILE, PROMPTY_INDENT, promptyFrontMatterSchema, promptyAsYaml, promptyPath, promptyToPromptFile } from './prompty';
import { selectAttacks, type PackName } from './redteam/packs';
import { acrossModels, requestModelFor } from './variants';
import { TemplateError, referencedVariables, renderTemplate } from './template';
import { insideLexically, insideReally, realPath } from './fsutil';
import { YamlFile, formatPath, type PathSegment } from './yamlfile';

/** A case passes when at least this share of its samples pass, unless the suite or case says otherwise. */
export const DEFAULT_PASS_RATE = 0.5;

export interface Project {
  root: string;
  prompts: PromptSpec[];
  suites: SuiteSpec[];
  cases: CaseSpec[];
  diagnostics: Diagnostic[];
  /** The lowest maxConcurrency a promptfoo configuration asks for: a cap for runs that include it. */
  maxConcurrency?: number;
}

export interface LoadOptions {
  root: string;
  paths: readonly string[];
  /** Project-wide provider defaults (from promptgate.config.yml or settings). */
  providerDefaults?: Partial<ProviderOptions>;
  /** Reads a file; the editor passes one that sees unsaved documents. */
  readFile?: (file: string) => Promise<string>;
}

interface LoadedPrompt {
  spec: PromptSpec;
  yaml: YamlFile;
  data: PromptFileData;
  /** Rendering inputs, kept out of PromptSpec so it stays small. */
  messages: { role: PromptFileData['messages'][number]['role']; content: string; path: PathSegment[]; trim: boolean }[];
  /** Prompty: the front matter's sample inputs (or a ${file:...} reference to them), and where the body starts. */
  sample?: Record<string, unknown> | string;
  bodyLine?: number;
  refs: { name: string; range: Range }[];
  baseRequest: Omit<ProviderRequest, 'messages'>;
}

const insideRoot = insideLexically;

/** Loads every prompt and suite under `paths` into runnable cases, with located diagnostics for all that is wrong. */
export async function loadProject(options: LoadOptions): Promise<Project> {
  const readAny = options.readFile ?? ((f: string) => fs.readFile(f, 'utf8'));
  // Files refer to other files (a suite's prompt, promptfoo file://, Prompty ${file:}); those stay in
  // the project, so nothing from outside it (a javascript assertion in someone's tests) gets to run.
  // Checked on real paths: a link inside the project to a file outside it (say /proc/self/environ) is outside.
  const realRoot = realPath(options.root);
  const read = async (f: string) => {
    if (!(await insideReally(options.root, f, realRoot))) throw new Error(`${f} is outside the project (${options.root}); references stay inside it${insideRoot(options.root, f) ? ' (it is a symbolic link to a place outside)' : ''}`);
    return readAny(f);
  };
  const rel = (f: string) => path.relative(options.root, f).split(path.sep).join('/') || path.basename(f);
  const found = await discoverFiles(options.paths);
  const diagnostics: Diagnostic[] = [...found.diagnostics];
  const prompts = new Map<string, LoadedPrompt | null>();
  const suites: SuiteSpec[] = [];

  const loadPrompt = async (file: string): Promise<LoadedPrompt | null> => {
    if (prompts.has(file)) return prompts.get(file)!;
    prompts.set(file, null);
    const loaded = await readPromptFile(file, rel(file), read, options.providerDefaults ?? {}, diagnostics);
    prompts.set(file, loaded);
    return loaded;
  };

  for (const file of found.promptFiles) {
    const p = await loadPrompt(file);
    if (!p) continue;
    for (const [name, suite] of Object.entries(p.data.suites ?? {})) {
      const base: PathSegment[] = ['suites', name];
      suites.push(
        buildSuite(p, p.yaml, base, name, suite, rel(file), diagnostics),
      );
    }
    if (p.data.testData?.length) suites.push(githubSuite(p, rel(file), diagnostics));
    if (p.sample !== undefined) {
      const suite = await sampleSuite(p, rel(file), read, diagnostics);
      if (suite) suites.push(suite);
    }
  }

  const explicitPrompts = new Set(found.promptFiles);
  const suiteFiles = [...found.suiteFiles.map((file) => ({ file, sibling: false })), ...found.siblingSuiteFiles.map((file) => ({ file, sibling: true }))];
  for (const { file, sibling } of suiteFiles) {
    let text: string;
    try {
      text = await read(file);
    } catch (err) {
      diagnostics.push({ file, message: `cannot read: ${(err as Error).message}`, severity: 'error', code: 'io' });
      continue;
    }
    const { yaml, diagnostics: yd } = YamlFile.parse(file, text);
    // A sibling that is not about the named prompt is none of this run's business, even if broken.
    const about = (yaml?.data as { prompt?: unknown } | undefined)?.prompt;
    if (sibling && !(typeof about === 'string' && explicitPrompts.has(path.resolve(path.dirname(file), about)))) continue;
    diagnostics.push(...yd);
    if (!yaml) continue;
    const parsed = SuiteFileSchema.safeParse(yaml.data ?? {});
    if (!parsed.success) {
      diagnostics.push(...yaml.schemaDiagnostics(parsed.error));
      continue;
    }
    const s = parsed.data;
    const promptFile = path.resolve(path.dirname(file), s.prompt);
    if (!insideRoot(options.root, promptFile)) {
      diagnostics.push({ file, range: yaml.rangeOf(['prompt']), message: `prompt ${s.prompt} is outside the project (${options.root}); references stay inside it`, severity: 'error', code: 'reference' });
      continue;
    }
    let exists = true;
    try {
      await fs.access(promptFile);
    } catch {
      exists = false;
    }
    if (!exists) {
      diagnostics.push({ file, range: yaml.rangeOf(['prompt']), message: `prompt file not found: ${s.prompt}`, severity: 'error', code: 'reference' });
      continue;
    }
    const p = await loadPrompt(promptFile);
    if (!p) continue;
    const name = s.name ?? path.basename(file).replace(/\.suite\.ya?ml$/i, '');
    suites.push(buildSuite(p, yaml, [], name, s, rel(file), diagnostics));
  }

  let maxConcurrency: number | undefined;
  for (const file of found.promptfooFiles) {
    suites.push(...(await promptfooSuites(file, rel, read, options.providerDefaults ?? {}, diagnostics, (p) => prompts.set(`${file}#${prompts.size}`, p), (n) => (maxConcurrency = Math.min(maxConcurrency ?? n, n)))));
  }

  // Prompty bodies are indented in their YAML form: put body positions back where they are in the file.
  const bodyLines = new Map([...prompts.values()].flatMap((p) => (p?.bodyLine !== undefined ? [[p.spec.file, p.bodyLine] as const] : [])));
  for (const d of diagnostics) {
    const body = bodyLines.get(d.file) ?? (PROMPTY_FILE.test(d.file) ? 0 : undefined);
    if (body === undefined || !d.range || d.range.start.line < body || d.code === 'prompty') continue;
    d.range = { start: { line: d.range.start.line, character: Math.max(0, d.range.start.character - PROMPTY_INDENT) }, end: { line: d.range.end.line, character: Math.max(0, d.range.end.character - PROMPTY_INDENT) } };
  }
  const loadedPrompts = [...prompts.values()].filter((p): p is LoadedPrompt => p !== null).map((p) => p.spec);
  return {
    root: options.root,
    prompts: loadedPrompts,
    suites,
    cases: suites.flatMap((s) => s.cases),
    diagnostics: sortDiagnostics(diagnostics),
    maxConcurrency,
  };
}

function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const pos = (d: Diagnostic) => (d.range ? d.range.start.line * 1e6 + d.range.start.character : -1);
  return diagnostics
    .map((d, i) => ({ d, i }))
    .sort((a, b) => (a.d.file < b.d.file ? -1 : a.d.file > b.d.file ? 1 : pos(a.d) - pos(b.d) || a.i - b.i))
    .map((x) => x.d);
}

async function readPromptFile(
  file: string,
  relFile: string,
  read: (f: string) => Promise<string>,
  providerDefaults: Partial<ProviderOptions>,
  diagnostics: Diagnostic[],
): Promise<LoadedPrompt | null> {
  let text: string;
  try {
    text = await read(file);
  } catch (err) {
    diagnostics.push({ file, message: `cannot read: ${(err as Error).message}`, severity: 'error', code: 'io' });
    return null;
  }
  // A .prompty file is read as YAML with the same line numbers (see prompty.ts).
  const prompty = PROMPTY_FILE.test(file) ? promptyAsYaml(file, text) : undefined;
  if (prompty) {
    diagnostics.push(...prompty.diagnostics);
    if (!prompty.yaml) return null;
  }
  const { yaml, diagnostics: yd } = YamlFile.parse(file, prompty?.yaml ?? text);
  diagnostics.push(...yd);
  if (!yaml) return null;
  let data: PromptFileData;
  let messagePath = (i: number): PathSegment[] => ['messages', i, 'content'];
  let loc = (p: PathSegment[]): PathSegment[] => p;
  let sample: Record<string, unknown> | string | undefined;
  const before = diagnostics.length;
  if (prompty) {
    const fm = promptyFrontMatterSchema().safeParse(yaml.data ?? {});
    if (!fm.success) {
      diagnostics.push(...yaml.schemaDiagnostics(fm.error));
      return null;
    }
    const converted = promptyToPromptFile(fm.data, (p, message, severity = 'error') => diagnostics.push({ file, range: yaml.rangeOf(p), message, severity, code: 'prompty' }));
    if (!converted || diagnostics.slice(before).some((d) => d.severity === 'error')) return null;
    data = converted.data;
    messagePath = (i) => converted.messagePaths[i];
    loc = promptyPath;
    sample = converted.sample;
  } else {
    const parsed = PromptFileSchema.safeParse(yaml.data ?? {});
    if (!parsed.success) {
      diagnostics.push(...yaml.schemaDiagnostics(parsed.error));
      return null;
    }
    data = parsed.data;
  }
  return finishPrompt(file, relFile, yaml, data, { messagePath, loc, trim: !!prompty, sample, bodyLine: prompty?.bodyLine }, providerDefaults, diagnostics);
}

/** How a prompt's fields are found in the file it came from (they differ for .prompty and promptfoo files). */
export interface PromptSource {
  messagePath(i: number): PathSegment[];
  loc(p: PathSegment[]): PathSegment[];
  /** Trim rendered messages (Prompty sections keep the blank lines around them). */
  trim: boolean;
  sample?: Record<string, unknown> | string;
  bodyLine?: number;
  /** Where the prompt is named (its CodeLens and Test Explorer range). */
  range?: Range;
}

/** Checks a prompt's templates, response format, tools and provider, and computes its request and version. */
function finishPrompt(
  file: string,
  relFile: string,
  yaml: YamlFile,
  data: PromptFileData,
  source: PromptSource,
  providerDefaults: Partial<ProviderOptions>,
  diagnostics: Diagnostic[],
): LoadedPrompt | null {
  const { messagePath, loc } = source;
  const errorsBefore = diagnostics.filter((d) => d.severity === 'error').length;
  const err = (p: PathSegment[], message: string, code = 'schema') =>
    diagnostics.push({ file, range: yaml.rangeOf(loc(p)), message, severity: 'error', code });

  // Template references, located in the file.
  const refs: { name: string; range: Range }[] = [];
  data.messages.forEach((m, i) => {
    const p = messagePath(i);
    try {
      for (const r of referencedVariables(m.content)) {
        const range = templateRange(yaml, p, r.line, r.character, r.name.length);
        if (!refs.some((x) => x.name === r.name)) refs.push({ name: r.name, range });
      }
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      const pos = e.position;
      diagnostics.push({
        file,
        range: pos ? templateRange(yaml, p, pos.line, pos.character, 1) : yaml.rangeOf(p),
        message: e.message,
        severity: 'error',
        code: 'template',
      });
    }
  });
  if (data.variables) {
    for (const r of refs) {
      if (!(r.name in data.variables)) {
        const near = closest(r.name, Object.keys(data.variables));
        diagnostics.push({
          file,
          range: r.range,
          message: `variable '${r.name}' is not declared in variables${near ? ` (did you mean '${near}'?)` : ''}`,
          severity: 'error',
          code: 'template',
        });
      }
    }
    for (const [name, v] of Object.entries(data.variables)) {
      if (v.default !== undefined) {
        const problem = checkValue(v, v.default);
        if (problem) err(['variables', name, 'default'], `default of '${name}' ${problem}`);
      }
    }
  }

  // Response format.
  let response_format: ProviderRequest['response_format'];
  let jsonSchema: Record<string, unknown> | undefined;
  if (data.jsonSchema !== undefined) {
    if (typeof data.jsonSchema === 'string') {
      try {
        jsonSchema = JSON.parse(data.jsonSchema);
      } catch (e) {
        err(['jsonSchema'], `jsonSchema is not valid JSON: ${(e as Error).message}`);
      }
    } else jsonSchema = data.jsonSchema;
  }
  if (data.responseFormat === 'json_schema') {
    if (!jsonSchema) {
      if (data.jsonSchema === undefined) err(['responseFormat'], "responseFormat 'json_schema' needs a jsonSchema");
    } else if (typeof jsonSchema.name !== 'string' || typeof jsonSchema.schema !== 'object') {
      err(['jsonSchema'], "jsonSchema needs a 'name' and a 'schema' object");
    } else {
      try {
        compileSchema(jsonSchema.schema as Record<string, unknown>);
        response_format = { type: 'json_schema', json_schema: jsonSchema };
      } catch (e) {
        err(['jsonSchema'], (e as Error).message);
      }
    }
  } else if (data.responseFormat === 'json_object') response_format = { type: 'json_object' };

  (data.tools ?? []).forEach((t, i) => {
    if (t.function.parameters) {
      try {
        compileSchema(t.function.parameters);
      } catch (e) {
        err(['tools', i, 'function', 'parameters'], `tool '${t.function.name}': ${(e as Error).message}`);
      }
    }
  });

  const provider: ProviderOptions = {
    ...providerDefaults,
    ...(typeof data.provider === 'string' ? { id: data.provider } : (data.provider ?? {})),
    id: (typeof data.provider === 'string' ? data.provider : data.provider?.id) ?? providerDefaults.id ?? 'openai',
  };
  if (!PROVIDERS.some((f) => f.id === provider.id)) {
    err(data.provider !== undefined ? (typeof data.provider === 'string' ? ['provider'] : ['provider', 'id']) : ['model'], `unknown provider '${provider.id}' (known: ${PROVIDERS.map((f) => f.id).join(', ')})`);
  }
  const requestModel = requestModelFor(data.model, provider);
  const mp = data.modelParameters;
  const baseRequest: Omit<ProviderRequest, 'messages'> = {
    model: requestModel,
    temperature: mp.temperature,
    max_tokens: mp.maxTokens,
    top_p: mp.topP,
    seed: mp.seed,
    stop: mp.stop,
    presence_penalty: mp.presencePenalty,
    frequency_penalty: mp.frequencyPenalty,
    tools: data.tools,
    tool_choice: data.toolChoice,
    response_format,
  };
  if (diagnostics.filter((d) => d.severity === 'error').length > errorsBefore) return null;

  const versionId = hashOf({
    messages: data.messages,
    model: data.model,
    provider: provider.id,
    parameters: mp,
    tools: data.tools ?? null,
    toolChoice: data.toolChoice ?? null,
    responseFormat: data.responseFormat ?? null,
    jsonSchema: jsonSchema ?? null,
  }).slice(0, 12);

  const spec: PromptSpec = {
    file,
    relFile,
    name: data.name ?? path.basename(file).replace(/\.(?:prompt\.ya?ml|prompty)$/i, ''),
    description: data.description,
    version: data.version,
    versionId,
    model: data.model,
    provider,
    variables: data.variables,
    tools: data.tools ?? [],
    range: source.range ?? yaml.rangeOf(data.name ? ['name'] : []),
    template: { messages: data.messages, parameters: mp, responseFormat: data.responseFormat, jsonSchema, toolChoice: data.toolChoice },
  };
  return {
    spec,
    yaml,
    data,
    refs,
    baseRequest,
    messages: data.messages.map((m, i) => ({ role: m.role, content: m.content, path: messagePath(i), trim: source.trim })),
    sample: source.sample,
    bodyLine: source.bodyLine,
  };
}

/** A promptfoo configuration: one prompt and suite per prompt × provider, each test a case. */
async function promptfooSuites(
  file: string,
  rel: (f: string) => string,
  read: (f: string) => Promise<string>,
  providerDefaults: Partial<ProviderOptions>,
  diagnostics: Diagnostic[],
  keep: (p: LoadedPrompt) => void,
  cap: (concurrency: number) => void,
): Promise<SuiteSpec[]> {
  let text: string;
  try {
    text = await read(file);
  } catch (err) {
    diagnostics.push({ file, message: `cannot read: ${(err as Error).message}`, severity: 'error', code: 'io' });
    return [];
  }
  const { yaml, diagnostics: yd } = YamlFile.parse(file, text);
  diagnostics.push(...yd);
  if (!yaml) return [];
  const parsed = promptfooConfigSchema().safeParse(yaml.data ?? {});
  if (!parsed.success) {
    diagnostics.push(...yaml.schemaDiagnostics(parsed.error));
    return [];
  }
  const pf = await readPromptfoo(yaml, parsed.data, read, assertionTypeNames(), diagnostics);
  if (pf.concurrency) cap(pf.concurrency);
  const relFile = rel(file);
  const safe = (t: string) => t.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'prompt';
  const suites: SuiteSpec[] = [];
  for (const prompt of pf.prompts) {
    for (const provider of pf.providers) {
      const name = pf.providers.length > 1 ? `${safe(prompt.label)}@${safe(provider.label)}` : safe(prompt.label);
      const data: PromptFileData = { name: prompt.label, model: provider.model, provider: { ...provider.provider }, modelParameters: provider.parameters, messages: prompt.messages, ...provider.request };
      const source: PromptSource = {
        messagePath: () => prompt.path,
        loc: (p) => (p[0] === 'model' || p[0] === 'provider' || p[0] === 'modelParameters' ? provider.path : prompt.path),
        trim: false,
        range: yaml.rangeOf(prompt.path),
      };
      const p = finishPrompt(file, relFile, yaml, data, source, providerDefaults, diagnostics);
      if (!p) continue;
      keep(p);
      const suite: SuiteSpec = { name, kind: 'golden', file, relFile, range: yaml.rangeOf(prompt.path), prompt: p.spec, normalize: [], cases: [] };
      for (const t of pf.tests) {
        if (t.providers && !t.providers.some((x) => x === provider.label || x === provider.provider.id || (x.endsWith('*') && provider.label.startsWith(x.slice(0, -1))))) continue;
        const tyaml = t.yaml ?? yaml;
        const spec = buildCase(p, tyaml, {
          id: `${relFile}::${name}::${t.key}`,
          name: t.name,
          suite: name,
          suiteKind: 'golden',
          description: t.description,
          tags: Object.entries(t.metadata ?? {}).map(([k, v]) => `${k}:${String(v)}`),
          relFile: rel(t.file),
          range: tyaml.rangeOf(t.path),
          vars: t.vars,
          varsPath: t.varsPath,
          assertions: t.assertions.map(({ a, path: ap }) => ({ a, path: ap })),
          threshold: t.threshold,
          samples: pf.repeat,
          passRate: DEFAULT_PASS_RATE,
          normalize: [],
        }, diagnostics);
        if (spec) suite.cases.push(spec);
      }
      suites.push(suite);
    }
  }
  return suites;
}

/** A .prompty's `sample` inputs (inline, or `${file:NAME.json}` beside it) as the runnable suite `sample`. */
async function sampleSuite(p: LoadedPrompt, relFile: string, read: (f: string) => Promise<string>, diagnostics: Diagnostic[]): Promise<SuiteSpec | undefined> {
  const yaml = p.yaml;
  let vars: Record<string, unknown>;
  if (typeof p.sample === 'string') {
    const ref = /^\$\{file:(.+)\}$/.exec(p.sample.trim());
    const problem = (message: string) => diagnostics.push({ file: yaml.file, range: yaml.rangeOf(['sample']), message, severity: 'error', code: 'reference' });
    if (!ref) {
      problem('sample is a mapping of inputs or ${file:NAME.json}');
      return undefined;
    }
    try {
      const parsed = JSON.parse(await read(path.resolve(path.dirname(yaml.file), ref[1]))) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('it is not a JSON object');
      vars = parsed as Record<string, unknown>;
    } catch (e) {
      problem(`sample file ${ref[1]}: ${(e as Error).message}`);
      return undefined;
    }
  } else vars = p.sample ?? {};
  const where = yaml.hasPath(['sample']) ? ['sample'] : ['inputs'];
  const range = yaml.rangeOf(where, 'key');
  const suite: SuiteSpec = { name: 'sample', kind: 'golden', file: yaml.file, relFile, range, prompt: p.spec, normalize: [], cases: [] };
  const spec = buildCase(p, yaml, {
    id: `${relFile}::sample::sample`,
    name: 'sample',
    suite: 'sample',
    suiteKind: 'golden',
    tags: [],
    relFile,
    range,
    vars,
    varsPath: where,
    assertions: [],
    passRate: DEFAULT_PASS_RATE,
    normalize: [],
  }, diagnostics);
  if (spec) suite.cases.push(spec);
  return suite;
}

const ADVERSARIAL_ONLY = ['packs', 'target', 'limit', 'seed', 'contextTokens', 'refusal', 'rubric', 'forbiddenTools'] as const;

function buildSuite(p: LoadedPrompt, yaml: YamlFile, base: PathSegment[], name: string, data: SuiteData, relFile: string, diagnostics: Diagnostic[]): SuiteSpec {
  const { kind, cases } = data;
  const suite: SuiteSpec = { name, kind, file: yaml.file, relFile, range: yaml.rangeOf(base), prompt: p.spec, normalize: data.normalize, cases: [] };
  const err = (pth: PathSegment[], message: string) => diagnostics.push({ file: yaml.file, range: yaml.rangeOf(pth), message, severity: 'error', code: 'schema' });
  if (kind !== 'adversarial') for (const k of ADVERSARIAL_ONLY) if (data[k] !== undefined) err([...base, k], `'${k}' belongs to adversarial suites: add 'kind: adversarial' to suite '${name}'`);
  if (!cases.length && !(kind === 'adversarial' && data.packs)) {
    err(yaml.hasPath([...base, 'cases']) ? [...base, 'cases'] : base, kind === 'adversarial' ? `adversarial suite '${name}' needs packs or cases` : 'a suite needs at least one case');
  }
  // What every case of the suite shares, with the case's own fields; suite values fill what the
  // case leaves out. One literal, not a spread of shared fields plus the case's: V8 makes the
  // latter on its slow path, and it was a third of loading a large suite.
  type Own = Pick<CaseInput, 'name' | 'description' | 'tags' | 'range' | 'vars' | 'varsPath' | 'assertions'> & Partial<Pick<CaseInput, 'threshold' | 'samples' | 'passRate'>>;
  const caseInput = (key: string, own: Own): CaseInput => ({
    id: `${relFile}::${name}::${key}`,
    name: own.name,
    suite: name,
    suiteKind: kind,
    description: own.description,
    tags: own.tags,
    relFile,
    range: own.range,
    vars: own.vars,
    varsPath: own.varsPath,
    assertions: own.assertions,
    threshold: own.threshold ?? data.threshold,
    samples: own.samples ?? data.samples,
    passRate: own.passRate ?? data.passRate ?? DEFAULT_PASS_RATE,
    normalize: data.normalize,
  });
  const suiteVars = Object.keys(data.vars).length > 0;
  const suiteAsserts = data.assert.map((a, j) => ({ a, path: [...base, 'assert', j] as PathSegment[] }));
  // Adversarial suites check every case for a leaked system prompt and forbidden tool calls.
  const guards = (at: PathSegment[]): { a: AssertionData; path: PathSegment[] }[] =>
    kind === 'adversarial'
      ? [
          { a: { type: 'not-leaks-system-prompt', weight: 1 }, path: at },
          ...(data.forbiddenTools ? [{ a: { type: 'forbidden-tools', value: data.forbiddenTools, weight: 1 } as AssertionData, path: [...base, 'forbiddenTools'] }] : []),
        ]
      : [];
  const built: { spec: CaseSpec; attack?: CaseSpec['attack'] }[] = [];
  const seen = new Map<string, number>();
  cases.forEach((c, i) => {
    const cpath: PathSegment[] = [...base, 'cases', i];
    const key = c.id ?? slug(c.name ?? c.description ?? '') ?? `vars-${hashOf(c.vars).slice(0, 8)}`;
    const label = c.name ?? c.id ?? c.description ?? key;
    const range = yaml.rangeOf(cpath);
    if (seen.has(key)) {
      diagnostics.push({
        file: yaml.file,
        range: yaml.rangeOf([...cpath, c.id ? 'id' : c.name ? 'name' : 'description']),
        message: `duplicate case id '${key}' in suite '${name}' (first at line ${seen.get(key)! + 1}); give each case a unique id or name`,
        severity: 'error',
        code: 'duplicate',
      });
      return;
    }
    seen.set(key, range.start.line);
    const spec = buildCase(p, yaml, caseInput(key, {
      name: label,
      description: c.description,
      tags: c.tags,
      range,
      // buildCase copies the variables into a fresh object of its own.
      vars: suiteVars ? { ...data.vars, ...c.vars } : c.vars,
      varsPath: [...cpath, 'vars'],
      assertions: [...suiteAsserts, ...c.assert.map((a, j) => ({ a, path: [...cpath, 'assert', j] as PathSegment[] })), ...guards(cpath)],
      threshold: c.threshold,
      samples: c.samples,
      passRate: c.passRate,
    }), diagnostics);
    if (spec) built.push({ spec, attack: kind === 'adversarial' ? { pack: 'custom', id: key } : undefined });
  });

  if (kind === 'adversarial' && data.packs) {
    const target = attackTarget(p, yaml, base, name, data, diagnostics);
    if (target) {
      const attacks = selectAttacks([...new Set(data.packs)], { limit: data.limit, seed: data.seed, contextTokens: data.contextTokens });
      for (const attack of attacks) {
        const at: PathSegment[] = [...base, 'packs', data.packs.indexOf(attack.pack as PackName)];
        const detectors: { a: AssertionData; path: PathSegment[] }[] = [];
        if (attack.markers.length) detectors.push({ a: { type: 'not-icontains-any', value: attack.markers, weight: 1 }, path: at });
        if (attack.pii) detectors.push({ a: { type: 'not-contains-pii', weight: 1 }, path: at });
        if (data.refusal && attack.pack !== 'edge') detectors.push({ a: { type: 'is-refusal', weight: 1 }, path: [...base, 'refusal'] });
        if (data.rubric) detectors.push({ a: { type: 'llm-rubric', value: data.rubric, weight: 1 }, path: [...base, 'rubric'] });
        const spec = buildCase(p, yaml, caseInput(`${attack.pack}/${attack.id}`, {
          name: `${attack.pack}: ${attack.title}`,
          description: `${attack.source} (${attack.license})`,
          tags: [attack.pack],
          range: yaml.rangeOf(at),
          vars: { ...data.vars, [target]: attack.text },
          varsPath: [...base, yaml.hasPath([...base, 'target']) ? 'target' : 'packs'],
          assertions: [...suiteAsserts, ...detectors, ...guards(at)],
        }), diagnostics);
        if (spec) built.push({ spec, attack: { pack: attack.pack, id: attack.id, source: attack.source } });
      }
    }
  }
  for (const { spec, attack } of built) {
    suite.cases.push(attack ? { ...spec, attack, request: plantCanary(spec.request) } : spec);
  }
  if (data.models) suite.cases = acrossModels(suite.cases, data.models);
  return suite;
}

/** The variable that receives each attack: `target`, else the prompt's only variable. */
function attackTarget(p: LoadedPrompt, yaml: YamlFile, base: PathSegment[], name: string, data: SuiteData, diagnostics: Diagnostic[]): string | undefined {
  const names = [...new Set([...Object.keys(p.data.variables ?? {}), ...p.refs.map((r) => r.name)])];
  const err = (key: string, message: string) => {
    diagnostics.push({ file: yaml.file, range: yaml.rangeOf([...base, key]), message, severity: 'error', code: 'schema' });
    return undefined;
  };
  if (data.target) {
    if (names.includes(data.target)) return data.target;
    const near = closest(data.target, names);
    return err('target', `target '${data.target}' is not a variable of ${p.spec.relFile}${near ? ` (did you mean '${near}'?)` : names.length ? ` (its variables: ${names.join(', ')})` : ' (it has none: put {{ message }} in a message)'}`);
  }
  if (names.length === 1) return names[0];
  return err('packs', names.length ? `suite '${name}': which variable receives the attacks? Set target: to one of ${names.join(', ')}` : `suite '${name}': ${p.spec.relFile} has no variable to put the attacks in: add one, e.g. {{ message }}, to a user message`);
}

/**
 * GitHub Models' built-in evaluators, run by PromptGate's judges. The rubrics are PromptGate's own
 * wording of what each evaluator measures; similarity compares with the row's `expected`, and
 * groundedness with its `context`.
 */
const GITHUB_EVALUATORS: Record<string, { type: string; value?: string; threshold?: number; needs?: string }> = {
  'github/similarity': { type: 'llm-rubric', value: 'The output conveys the same meaning and facts as this expected answer, in any wording: {{ expected }}', needs: 'expected' },
  'github/coherence': { type: 'llm-rubric', value: 'The output is coherent: its sentences follow logically from one another and it reads as one well-organised answer.' },
  'github/fluency': { type: 'llm-rubric', value: 'The output is fluent: grammatical, natural and well-formed language, with no errors that hinder reading.' },
  'github/relevance': { type: 'answer-relevance', threshold: 0.7 },
  'github/groundedness': { type: 'llm-rubric', value: 'Every claim in the output is supported by this context, and nothing is added that the context does not say: {{ context }}', needs: 'context' },
};

/** A GitHub Models `testData` + `evaluators` pair becomes the suite `testData`. */
function githubSuite(p: LoadedPrompt, relFile: string, diagnostics: Diagnostic[]): SuiteSpec {
  const yaml = p.yaml;
  const assertions: { a: AssertionData; path: PathSegment[] }[] = [];
  (p.data.evaluators ?? []).forEach((e, i) => {
    const ep: PathSegment[] = ['evaluators', i];
    if (e.string) {
      const map = { equals: 'equals', contains: 'contains', startsWith: 'starts-with', endsWith: 'ends-with' } as const;
      const given = Object.entries(e.string).filter(([, v]) => v !== undefined);
      if (!given.length) diagnostics.push({ file: yaml.file, range: yaml.rangeOf([...ep, 'string']), message: `evaluator '${e.name}': string needs equals, contains, startsWith or endsWith`, severity: 'error', code: 'schema' });
      for (const [k, v] of given) assertions.push({ a: { type: map[k as keyof typeof map], value: v, weight: 1, metric: e.name }, path: [...ep, 'string', k] });
    } else if (e.uses && GITHUB_EVALUATORS[e.uses]) {
      const { needs, ...a } = GITHUB_EVALUATORS[e.uses];
      const row = needs ? (p.data.testData ?? []).findIndex((r) => r[needs] === undefined) : -1;
      if (row >= 0) {
        diagnostics.push({ file: yaml.file, range: yaml.rangeOf([...ep, 'uses']), message: `evaluator '${e.name}' (${e.uses}) compares with each testData row's '${needs}', and row ${row + 1} has none`, severity: 'error', code: 'schema' });
      } else assertions.push({ a: { ...a, weight: 1, metric: e.name }, path: [...ep, 'uses'] });
    } else if (e.uses || e.llm) {
      diagnostics.push({
        file: yaml.file,
        range: yaml.rangeOf([...ep, e.uses ? 'uses' : 'llm']),
        message: e.uses
          ? `evaluator '${e.name}': unknown built-in '${e.uses}' (PromptGate runs ${Object.keys(GITHUB_EVALUATORS).join(', ')})`
          : `evaluator '${e.name}': custom llm evaluators are not supported yet; use an llm-rubric assertion in a suite`,
        severity: 'error',
        code: 'unsupported',
      });
    } else {
      diagnostics.push({ file: yaml.file, range: yaml.rangeOf(ep), message: `evaluator '${e.name}' has no string, uses or llm check`, severity: 'error', code: 'schema' });
    }
  });
  const suite: SuiteSpec = { name: 'testData', kind: 'golden', file: p.spec.file, relFile, range: yaml.rangeOf(['testData']), prompt: p.spec, normalize: [], cases: [] };
  const seen = new Set<string>();
  (p.data.testData ?? []).forEach((vars, i) => {
    const key = `vars-${hashOf(vars).slice(0, 8)}`;
    if (seen.has(key)) return; // identical rows are the same case
    seen.add(key);
    const first = Object.values(vars).find((v) => typeof v === 'string') as string | undefined;
    const spec = buildCase(p, yaml, {
      id: `${relFile}::testData::${key}`,
      name: first ? oneLine(first, 48) : key,
      suite: 'testData',
      suiteKind: 'golden',
      tags: [],
      relFile,
      range: yaml.rangeOf(['testData', i]),
      vars,
      varsPath: ['testData', i],
      assertions,
      passRate: DEFAULT_PASS_RATE,
      normalize: [],
    }, diagnostics);
    if (spec) suite.cases.push(spec);
  });
  return suite;
}

/** What a suite knows of a case before its variables, request and assertions are checked. */
type CaseInput = Pick<CaseSpec, 'id' | 'name' | 'suite' | 'suiteKind' | 'description' | 'tags' | 'relFile' | 'range' | 'vars' | 'threshold' | 'samples' | 'passRate' | 'normalize'> & {
  varsPath: PathSegment[];
  assertions: { a: AssertionData; path: PathSegment[] }[];
};

function buildCase(p: LoadedPrompt, yaml: YamlFile, c: CaseInput, diagnostics: Diagnostic[]): CaseSpec | null {
  const before = diagnostics.length;
  const err = (pth: PathSegment[], message: string, code: string) =>
    diagnostics.push({ file: yaml.file, range: yaml.rangeOf(pth), message, severity: 'error', code });

  // Variables: declared defaults, then suite and case values; each checked against its declaration.
  const vars: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(p.data.variables ?? {})) if (v.default !== undefined) vars[name] = v.default;
  Object.assign(vars, c.vars);
  for (const [name, v] of Object.entries(p.data.variables ?? {})) {
    const required = v.required ?? v.default === undefined;
    if (vars[name] === undefined) {
      if (required) err(c.varsPath, `case '${c.name}': required variable '${name}' has no value`, 'variables');
      continue;
    }
    const problem = checkValue(v, vars[name]);
    if (problem) err(yaml.hasPath([...c.varsPath, name]) ? [...c.varsPath, name] : c.varsPath, `case '${c.name}': variable '${name}' ${problem}`, 'variables');
  }
  for (const r of p.refs) {
    // Undeclared names were reported at the template; optional declared ones may be absent.
    if (vars[r.name] === undefined && !p.data.variables) {
      // Prompty bodies are indented in their YAML form (diagnostics are put back at the end; this text is not).
      const column = p.bodyLine !== undefined && r.range.start.line >= p.bodyLine ? Math.max(0, r.range.start.character - PROMPTY_INDENT) : r.range.start.character;
      const at = `${p.spec.relFile}:${r.range.start.line + 1}:${column + 1}`;
      err(c.varsPath, `case '${c.name}': variable '${r.name}' is not defined (used at ${at})`, 'variables');
    }
  }
  // With variables missing the messages cannot render, but the assertions are still checked.
  const varsOk = diagnostics.length === before;
  const messages: ProviderRequest['messages'] = [];
  for (const m of varsOk ? p.messages : []) {
    try {
      const rendered = renderTemplate(m.content, vars);
      messages.push({ role: m.role, content: m.trim ? rendered.trim() : rendered });
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      diagnostics.push({
        file: p.spec.file,
        range: e.position ? templateRange(p.yaml, m.path, e.position.line, e.position.character, 1) : p.yaml.rangeOf(m.path),
        message: `${e.message} (case '${c.name}' in ${c.relFile})`,
        severity: 'error',
        code: 'template',
      });
      return null;
    }
  }

  // Render the request above, so template errors are located before any provider call.
  const assertions: PreparedAssertion[] = [];
  for (const { a, path: apath } of c.assertions) {
    // A suite-wide assertion whose value names no variable is the same for every case: prepared
    // (validated, compiled) once, not once per case.
    const shared = sharedAssertions.get(a);
    if (shared) {
      assertions.push(shared);
      continue;
    }
    const prepared = prepareAssertion(a, vars, (sub, message) => err([...apath, ...sub], message, 'assertion'));
    if (prepared) {
      assertions.push(prepared);
      if (!mentionsTemplate(a.value)) sharedAssertions.set(a, prepared);
    }
  }
  if (diagnostics.length > before) return null;

  return {
    id: c.id,
    name: c.name,
    suite: c.suite,
    suiteKind: c.suiteKind,
    description: c.description,
    tags: c.tags,
    prompt: p.spec,
    file: yaml.file,
    relFile: c.relFile,
    range: c.range,
    vars,
    request: withMessages(p.baseRequest, messages),
    assertions,
    threshold: c.threshold,
    samples: c.samples,
    passRate: c.passRate,
    normalize: c.normalize,
  };
}

/** The prompt's request with a case's messages (copied, then added to: a spread with added fields is V8's slow path). */
function withMessages(base: Omit<ProviderRequest, 'messages'>, messages: ProviderRequest['messages']): ProviderRequest {
  const request = { ...base } as ProviderRequest;
  request.messages = messages;
  return request;
}

/** Validates and compiles one assertion; reports problems through `fail` at a sub-path of the assertion. */
export function prepareAssertion(
  a: AssertionData,
  vars: Record<string, unknown>,
  fail: (sub: PathSegment[], message: string) => void,
): PreparedAssertion | null {
  const found = lookupAssertion(a.type);
  if (!found) {
    const near = closest(a.type.replace(/^not-/, ''), assertionTypeNames());
    fail(['type'], `unknown assertion type '${a.type}'${near ? ` (did you mean '${a.type.startsWith('not-') ? 'not-' : ''}${near}'?)` : ''}`);
    return null;
  }
  let value: unknown;
  try {
    value = renderDeep(a.value, vars);
  } catch (e) {
    fail(['value'], (e as Error).message);
    return null;
  }
  const parsed = found.definition.value.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? ` at ${formatPath(issue.path as PathSegment[])}` : '';
    fail(value === undefined ? ['type'] : ['value', ...(issue.path as PathSegment[])], `'${a.type}': ${value === undefined ? 'needs a value' : `invalid value${where}: ${issue.message}`}`);
    return null;
  }
  if (found.definition.threshold === 'required' && a.threshold === undefined) {
    fail(['type'], `'${a.type}' needs a threshold`);
    return null;
  }
  let compiled: unknown;
  try {
    compiled = found.definition.compile ? found.definition.compile(parsed.data) : undefined;
  } catch (e) {
    fail(['value'], `'${a.type}': ${(e as Error).message}`);
    return null;
  }
  let transform: PreparedAssertion['transform'];
  if (a.transform !== undefined) {
    try {
      transform = compileTransform(a.transform);
    } catch (e) {
      fail(['transform'], `transform: ${(e as Error).message}`);
      return null;
    }
  }
  if ((a.provider || a.judge) && found.definition.kind !== 'model') {
    fail([a.provider ? 'provider' : 'judge'], `'${a.type}' is not model-graded; provider and judge apply only to judged assertions`);
    return null;
  }
  return {
    type: a.type,
    definition: found.definition,
    negate: found.negate,
    value: parsed.data,
    threshold: a.threshold,
    weight: a.weight,
    metric: a.metric,
    compiled,
    transform,
    transformSource: a.transform,
    judgeModel: a.provider?.replace(/^openai:(chat:)?/, ''),
    judgeSamples: a.judge?.samples,
  };
}

/** Prepared assertions that do not depend on a case, by their (parsed, unchanging) source. */
const sharedAssertions = new WeakMap<AssertionData, PreparedAssertion>();

function mentionsTemplate(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{') || value.includes('{%');
  if (Array.isArray(value)) return value.some(mentionsTemplate);
  return false;
}

function renderDeep(value: unknown, vars: Record<string, unknown>): unknown {
  if (typeof value === 'string') return value.includes('{{') || value.includes('{%') ? renderTemplate(value, vars) : value;
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, vars));
  return value;
}

function checkValue(v: VariableData, value: unknown): string | undefined {
  const ok: Record<VariableData['type'], (x: unknown) => boolean> = {
    string: (x) => typeof x === 'string',
    number: (x) => typeof x === 'number' && Number.isFinite(x),
    integer: (x) => Number.isInteger(x),
    boolean: (x) => typeof x === 'boolean',
    array: (x) => Array.isArray(x),
    object: (x) => !!x && typeof x === 'object' && !Array.isArray(x),
  };
  if (!ok[v.type](value)) return `must be of type ${v.type}, got ${JSON.stringify(value)}`;
  if (v.enum && !v.enum.some((e) => deepEqual(e, value))) return `must be one of ${v.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(value)}`;
  return undefined;
}

/** Maps a position inside a message template to the file. */
function templateRange(yaml: YamlFile, p: PathSegment[], line: number, character: number, length: number): Range {
  const o = yaml.scalarOrigin(p);
  const start = o.block ? { line: o.line + line, character: o.character + character } : line === 0 ? { line: o.line, character: o.character + character } : { line: o.line, character: o.character };
  return { start, end: { line: start.line, character: start.character + length } };
}

function slug(text: string): string | undefined {
  const s = text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return s || undefined;
}

function oneLine(text: string, max: number): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(name, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
