import type { Diagnostic } from '../diagnostics';
import { hashOf } from '../canonical';
import * as path from 'node:path';
import { CaseSchema, type AssertionData, type CaseData, type SuiteData } from '../schema';
import { plantCanary } from '../redteam/canary';
import { selectAttacks } from '../redteam/packs';
import { acrossModels } from '../variants';
import { YamlFile, type PathSegment } from '../yamlfile';
import type { LoadedPrompt } from './loaded';
import { buildCase, slug, closest, type CaseInput } from './case';
import { LineCase, definitionsOf, type LineSource } from './line-case';
import { buildAgent, withHistory, type AgentInput } from './agent';
import { DEFAULT_PASS_RATE, type CaseSpec, type SuiteSpec } from '../types/cases';
import type { PackName } from '../types/packs';

const ADVERSARIAL_ONLY = ['packs', 'target', 'limit', 'seed', 'contextTokens', 'refusal', 'rubric', 'forbiddenTools'] as const;

/** A suite's JSONL case file as read: its path, its path in the project, and its text. */
export interface CaseFileText {
  file: string;
  relFile: string;
  text: string;
}

/** Past this many bad lines a case file's further errors are counted, not each reported. */
const MAX_LINE_ERRORS = 100;

/**
 * Reads a suite's `caseFiles` (relative to the file that declares the suite) through the project's
 * reader, so they stay inside the project; one that cannot be read is a located error.
 */
export async function readCaseFiles(data: SuiteData, yaml: YamlFile, base: PathSegment[], read: (file: string) => Promise<string>, rel: (file: string) => string, diagnostics: Diagnostic[]): Promise<CaseFileText[]> {
  const out: CaseFileText[] = [];
  for (const [i, ref] of (data.caseFiles ?? []).entries()) {
    const file = path.resolve(path.dirname(yaml.file), ref.replace(/^file:\/\//, ''));
    try {
      const text = await read(file);
      // A byte-order mark (files saved by some Windows editors) is not part of the first case.
      out.push({ file, relFile: rel(file), text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text });
    } catch (e) {
      diagnostics.push({ file: yaml.file, range: yaml.rangeOf([...base, 'caseFiles', i]), message: `cannot read case file ${ref}: ${(e as Error).message}`, severity: 'error', code: 'reference' });
    }
  }
  return out;
}

export function buildSuite(p: LoadedPrompt, yaml: YamlFile, base: PathSegment[], name: string, data: SuiteData, relFile: string, diagnostics: Diagnostic[], caseFiles: readonly CaseFileText[] = []): SuiteSpec {
  const { kind, cases } = data;
  const suite: SuiteSpec = { name, kind, file: yaml.file, relFile, range: yaml.rangeOf(base), prompt: p.spec, normalize: data.normalize, cases: [] };
  const err = (pth: PathSegment[], message: string) => diagnostics.push({ file: yaml.file, range: yaml.rangeOf(pth), message, severity: 'error', code: 'schema' });
  if (kind !== 'adversarial') for (const k of ADVERSARIAL_ONLY) if (data[k] !== undefined) err([...base, k], `'${k}' belongs to adversarial suites: add 'kind: adversarial' to suite '${name}'`);
  if (!cases.length && !data.caseFiles && !(kind === 'adversarial' && data.packs)) {
    err(yaml.hasPath([...base, 'cases']) ? [...base, 'cases'] : base, kind === 'adversarial' ? `adversarial suite '${name}' needs packs or cases` : 'a suite needs at least one case');
  }
  // What every case of the suite shares, with the case's own fields; suite values fill what the
  // case leaves out. One literal, not a spread of shared fields plus the case's: V8 makes the
  // latter on its slow path, and it was a third of loading a large suite.
  type Own = Pick<CaseInput, 'name' | 'description' | 'tags' | 'range' | 'vars' | 'varsPath' | 'assertions'> & Partial<Pick<CaseInput, 'threshold' | 'samples' | 'passRate' | 'relFile'>>;
  const caseInput = (key: string, own: Own): CaseInput => ({
    id: `${relFile}::${name}::${key}`,
    name: own.name,
    suite: name,
    suiteKind: kind,
    description: own.description,
    tags: own.tags,
    relFile: own.relFile ?? relFile,
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
  // Agent cases: the suite's mocks, the case's over them by tool name; maxSteps likewise; the case's turns.
  const agentInput = (cpath: PathSegment[], c?: SuiteData['cases'][number]): AgentInput => {
    const mocks = new Map<string, AgentInput['mocks'][number]>();
    for (const [name, mock] of Object.entries(data.mocks ?? {})) mocks.set(name, { name, mock, path: [...base, 'mocks', name] });
    for (const [name, mock] of Object.entries(c?.mocks ?? {})) mocks.set(name, { name, mock, path: [...cpath, 'mocks', name] });
    return { mocks: [...mocks.values()], maxSteps: c?.maxSteps ?? data.maxSteps, turns: c?.turns, turnsPath: [...cpath, 'turns'] };
  };
  const built: { spec: CaseSpec; attack?: CaseSpec['attack'] }[] = [];
  const seen = new Map<string, { relFile: string; line: number }>();
  const keyOf = (c: CaseData) => c.id ?? slug(c.name ?? c.description ?? '') ?? `vars-${hashOf(c.vars).slice(0, 8)}`;
  /** One case, inline (`cyaml` is the suite's file, `cpath` its place) or a case file's line (its own file, path []). */
  const buildOne = (c: CaseData, key: string, cyaml: YamlFile, cpath: PathSegment[], range: CaseSpec['range'], caseRel: string | undefined, found: Diagnostic[]): CaseSpec | null => {
    const label = c.name ?? c.id ?? c.description ?? key;
    const spec = buildCase(p, cyaml, caseInput(key, {
      name: label,
      description: c.description,
      tags: c.tags,
      range,
      relFile: caseRel,
      // buildCase copies the variables into a fresh object of its own.
      vars: suiteVars ? { ...data.vars, ...c.vars } : c.vars,
      varsPath: [...cpath, 'vars'],
      assertions: [...suiteAsserts, ...c.assert.map((a, j) => ({ a, path: [...cpath, 'assert', j] as PathSegment[] })), ...guards(cpath)],
      threshold: c.threshold,
      samples: c.samples,
      passRate: c.passRate,
    }), found);
    if (!spec) return null;
    const agent = buildAgent(p, cyaml, agentInput(cpath, c), spec.vars, label, found);
    if (agent === null) return null;
    const request = c.history ? withHistory(p, cyaml, spec.request, c.history, [...cpath, 'history'], spec.vars, found) : spec.request;
    if (!request) return null;
    return { ...spec, request, ...(agent ? { agent } : {}) };
  };
  /** Checks a case's id is new in the suite, builds it and keeps it (as `hold` gives it). */
  const addCase = (c: CaseData, cyaml: YamlFile, cpath: PathSegment[], range: CaseSpec['range'], caseRel?: string, hold = (spec: CaseSpec) => spec) => {
    const key = keyOf(c);
    const first = seen.get(key);
    if (first) {
      const where = first.relFile === (caseRel ?? relFile) ? `line ${first.line + 1}` : `${first.relFile}:${first.line + 1}`;
      diagnostics.push({
        file: cyaml.file,
        range: cyaml.rangeOf([...cpath, c.id ? 'id' : c.name ? 'name' : 'description']),
        message: `duplicate case id '${key}' in suite '${name}' (first at ${where}); give each case a unique id or name`,
        severity: 'error',
        code: 'duplicate',
      });
      return;
    }
    seen.set(key, { relFile: caseRel ?? relFile, line: range.start.line });
    const spec = buildOne(c, key, cyaml, cpath, range, caseRel, diagnostics);
    if (spec) built.push({ spec: hold(spec), attack: kind === 'adversarial' ? { pack: 'custom', id: key } : undefined });
  };
  cases.forEach((c, i) => addCase(c, yaml, [...base, 'cases', i], yaml.rangeOf([...base, 'cases', i])));
  let fileCases = 0;
  // A golden suite holds its case files' cases as their lines (LineCase), built again when run;
  // adversarial cases (a canary planted per load) and model lists are held built.
  const lean = kind === 'golden' && !data.models;
  for (const cf of caseFiles) {
    const source: LineSource = {
      text: cf.text,
      definitions: definitionsOf(),
      build: (raw, line) => {
        const value: unknown = JSON.parse(raw);
        const c = CaseSchema.parse(value);
        const spec = buildOne(c, keyOf(c), YamlFile.ofLine(cf.file, raw, line, value), [], { start: { line, character: 0 }, end: { line, character: raw.length } }, cf.relFile, []);
        if (!spec) throw new Error(`${cf.relFile}:${line + 1}: the case no longer builds`);
        return spec;
      },
    };
    fileCases += readCaseLines(cf, diagnostics, (c, lineYaml, range, start, end) => addCase(c, lineYaml, [], range, cf.relFile, lean ? (spec) => new LineCase(spec, source, start, end, range.start.line) : undefined));
  }
  if (data.caseFiles && caseFiles.length === data.caseFiles.length && !fileCases && !cases.length && !data.packs) err([...base, 'caseFiles'], 'a suite needs at least one case: its case files hold none');

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
        if (!spec) continue;
        // An agent under attack: the suite's mocks answer its tool calls.
        const agent = buildAgent(p, yaml, agentInput(at), spec.vars, spec.name, diagnostics);
        if (agent !== null) built.push({ spec: agent ? { ...spec, agent } : spec, attack: { pack: attack.pack, id: attack.id, source: attack.source } });
      }
    }
  }
  for (const { spec, attack } of built) {
    suite.cases.push(attack ? { ...spec, attack, request: plantCanary(spec.request) } : spec);
  }
  // The case files' sources build their cases again with this function's closures, which share
  // one scope with these: emptied, they do not hold a large suite's ids and cases a second time.
  built.length = 0;
  seen.clear();
  if (data.models) suite.cases = acrossModels(suite.cases, data.models);
  return suite;
}

/**
 * Each case of a JSONL case file, one line at a time: parsed, checked against the case schema and
 * handed on with its own line's locations, so a million cases never exist as one parsed document.
 * A bad line is a located error and the others still load; past MAX_LINE_ERRORS they are counted.
 */
function readCaseLines(cf: CaseFileText, diagnostics: Diagnostic[], each: (c: CaseData, lineYaml: YamlFile, range: CaseSpec['range'], start: number, end: number) => void): number {
  const { file, text } = cf;
  let bad = 0;
  const fail = (found: Diagnostic[]) => {
    if (++bad <= MAX_LINE_ERRORS) diagnostics.push(...found);
  };
  let line = 0;
  let count = 0;
  for (let start = 0; start < text.length; line++) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const from = start;
    const to = end > start && text[end - 1] === '\r' ? end - 1 : end;
    const raw = text.slice(from, to);
    start = end + 1;
    if (!raw.trim()) continue;
    count++;
    const range = { start: { line, character: 0 }, end: { line, character: raw.length } };
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      const at = Number(/position (\d+)/.exec((e as Error).message)?.[1] ?? 0);
      fail([{ file, range: { start: { line, character: at }, end: { line, character: at } }, message: `not a JSON case: ${(e as Error).message}`, severity: 'error', code: 'schema' }]);
      continue;
    }
    const lineYaml = YamlFile.ofLine(file, raw, line, value);
    const parsed = CaseSchema.safeParse(value);
    if (!parsed.success) {
      fail(value !== null && typeof value === 'object' && !Array.isArray(value) ? lineYaml.schemaDiagnostics(parsed.error) : [{ file, range, message: 'a case is a JSON object on one line, e.g. {"id": "c1", "vars": {...}}', severity: 'error', code: 'schema' }]);
      continue;
    }
    const before = diagnostics.length;
    each(parsed.data, lineYaml, range, from, to);
    if (diagnostics.length > before && ++bad > MAX_LINE_ERRORS) diagnostics.length = before;
  }
  if (bad > MAX_LINE_ERRORS) diagnostics.push({ file, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, message: `${bad - MAX_LINE_ERRORS} more lines with errors (the first ${MAX_LINE_ERRORS} are reported)`, severity: 'error', code: 'schema' });
  return count;
}

/** The variable that receives each attack: `target`, else the prompt's only variable. */
export function attackTarget(p: LoadedPrompt, yaml: YamlFile, base: PathSegment[], name: string, data: SuiteData, diagnostics: Diagnostic[]): string | undefined {
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
