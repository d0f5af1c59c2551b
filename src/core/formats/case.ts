import { distance } from 'fastest-levenshtein';
import type { Diagnostic, Range } from '../diagnostics';
import { assertionTypeNames, lookupAssertion } from '../assertions/registry';
import { compileTransform } from '../assertions/javascript';
import { deepEqual } from '../assertions/text';
import type { ProviderRequest } from '../providers/types';
import { type AssertionData, type VariableData } from '../schema';
import { PROMPTY_INDENT } from './prompty';
import { TemplateError, renderTemplate, type TemplateDialect } from '../template';
import { YamlFile, formatPath, type PathSegment } from '../yamlfile';
import type { LoadedPrompt } from './loaded';
import type { PreparedAssertion } from '../types/assertions';
import type { CaseSpec } from '../types/cases';

/** What a suite knows of a case before its variables, request and assertions are checked. */
export type CaseInput = Pick<CaseSpec, 'id' | 'name' | 'suite' | 'suiteKind' | 'description' | 'tags' | 'relFile' | 'range' | 'vars' | 'threshold' | 'samples' | 'passRate' | 'normalize'> & {
  varsPath: PathSegment[];
  assertions: { a: AssertionData; path: PathSegment[] }[];
  /** What the case uses that PromptGate does not run (reported by the format where it is written): the case is skipped. */
  skip?: CaseSpec['skip'];
};

export function buildCase(p: LoadedPrompt, yaml: YamlFile, c: CaseInput, diagnostics: Diagnostic[]): CaseSpec | null {
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
  // Prompty renders a variable without a value as empty text; when no input declares it (the
  // template would have warned), the case says where it is used, so a typo does not pass unseen.
  // Kept apart until the end: the checks below count what was added to `diagnostics` as errors.
  const warnings: Diagnostic[] = [];
  if (p.dialect === 'lenient' && p.bodyLine !== undefined && !p.data.variables) {
    for (const r of p.refs) {
      if (vars[r.name] !== undefined) continue;
      const column = r.range.start.line >= p.bodyLine ? Math.max(0, r.range.start.character - PROMPTY_INDENT) : r.range.start.character;
      warnings.push({ file: yaml.file, range: yaml.rangeOf(c.varsPath), message: `case '${c.name}': variable '${r.name}' has no value (used at ${p.spec.relFile}:${r.range.start.line + 1}:${column + 1}); it renders empty, as in Prompty`, severity: 'warning', code: 'variables' });
    }
  }
  for (const r of p.dialect === 'strict' ? p.refs : []) {
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
    // A message without a template tag is the same for every case: one object, not one per case.
    const fixed = staticMessages.get(m);
    if (fixed) {
      messages.push(fixed);
      continue;
    }
    try {
      const rendered = renderTemplate(m.content, vars, p.dialect);
      const message = { role: m.role, content: m.trim ? rendered.trim() : rendered };
      if (!mentionsTemplate(m.content)) staticMessages.set(m, message);
      messages.push(message);
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
    const prepared = prepareAssertion(a, vars, p.dialect, (sub, message) => err([...apath, ...sub], message, 'assertion'));
    if (prepared) {
      assertions.push(prepared);
      if (!mentionsTemplate(a.value)) sharedAssertions.set(a, prepared);
    }
  }
  diagnostics.push(...warnings);
  if (diagnostics.length > before + warnings.length) return null;

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
    // Exact-length copies: an array grown by push keeps spare room (for two messages, a hundred
    // bytes or more), and a large suite holds one per case.
    request: withMessages(p.baseRequest, messages.slice()),
    assertions: assertions.slice(),
    threshold: c.threshold,
    samples: c.samples,
    passRate: c.passRate,
    normalize: c.normalize,
    ...(c.skip ?? p.skip ? { skip: c.skip ?? p.skip } : {}),
  };
}

/** The prompt's request with a case's messages (copied, then added to: a spread with added fields is V8's slow path). */
export function withMessages(base: Omit<ProviderRequest, 'messages'>, messages: ProviderRequest['messages']): ProviderRequest {
  const request = { ...base } as ProviderRequest;
  request.messages = messages;
  return request;
}

/** Validates and compiles one assertion; reports problems through `fail` at a sub-path of the assertion. */
export function prepareAssertion(
  a: AssertionData,
  vars: Record<string, unknown>,
  dialect: TemplateDialect,
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
    value = renderDeep(a.value, vars, dialect);
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

/** Rendered messages that do not depend on a case, by their template (requests are never changed in place). */
const staticMessages = new WeakMap<object, ProviderRequest['messages'][number]>();

/** Prepared assertions that do not depend on a case, by their (parsed, unchanging) source. */
export const sharedAssertions = new WeakMap<AssertionData, PreparedAssertion>();

export function mentionsTemplate(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{') || value.includes('{%');
  if (Array.isArray(value)) return value.some(mentionsTemplate);
  return false;
}

export function renderDeep(value: unknown, vars: Record<string, unknown>, dialect: TemplateDialect = 'strict'): unknown {
  if (typeof value === 'string') return value.includes('{{') || value.includes('{%') ? renderTemplate(value, vars, dialect) : value;
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, vars, dialect));
  return value;
}

export function checkValue(v: VariableData, value: unknown): string | undefined {
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
export function templateRange(yaml: YamlFile, p: PathSegment[], line: number, character: number, length: number): Range {
  const o = yaml.scalarOrigin(p);
  const start = o.block ? { line: o.line + line, character: o.character + character } : line === 0 ? { line: o.line, character: o.character + character } : { line: o.line, character: o.character };
  return { start, end: { line: start.line, character: start.character + length } };
}

export function slug(text: string): string | undefined {
  const s = text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return s || undefined;
}

export function oneLine(text: string, max: number): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export function closest(name: string, candidates: string[]): string | undefined {
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
