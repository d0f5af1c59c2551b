import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import type { Diagnostic } from './diagnostics';
import { discoverFiles } from './discover';
import { SuiteFileSchema, type ProviderOptions } from './schema';
import { PROMPTY_FILE, PROMPTY_INDENT } from './formats/prompty';
import { insideLexically, insideReally, realPath } from './fsutil';
import { YamlFile, type PathSegment } from './yamlfile';
import { type LoadedPrompt, readPromptFile } from './formats/prompt-file';
import { buildSuite, readCaseFiles } from './formats/native';
import { readMockScripts } from './formats/agent';
import { githubSuite } from './formats/github';
import { promptfooSuites } from './formats/promptfoo-suites';
import { sampleSuite } from './formats/prompty-sample';
import type { CaseSpec, PromptSpec, SuiteSpec } from './types/cases';

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
      await readMockScripts(suite, p.yaml, base, read, diagnostics);
      const caseFiles = await readCaseFiles(suite, p.yaml, base, read, rel, diagnostics);
      suites.push(buildSuite(p, p.yaml, base, name, suite, rel(file), diagnostics, caseFiles));
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
    await readMockScripts(s, yaml, [], read, diagnostics);
    const caseFiles = await readCaseFiles(s, yaml, [], read, rel, diagnostics);
    suites.push(buildSuite(p, yaml, [], name, s, rel(file), diagnostics, caseFiles));
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
