import * as nunjucks from 'nunjucks';

/** A place in a template's own text, zero-based. */
export interface TemplatePosition {
  line: number;
  character: number;
}

export interface VariableRef extends TemplatePosition {
  name: string;
}

export class TemplateError extends Error {
  constructor(
    message: string,
    readonly position?: TemplatePosition,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

// Prompts are not HTML: escaping would corrupt them. Undefined values throw instead of rendering as ''.
const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
/**
 * Third-party files (promptfoo, Prompty) render as their own tools do: an undefined variable is
 * empty text, and promptfoo's `load` filter parses JSON.
 */
const lenientEnv = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: false });
for (const e of [env, lenientEnv]) e.addFilter('load', (text: unknown) => (typeof text === 'string' ? JSON.parse(text) : text));

/** How a template treats an undefined variable: `strict` (PromptGate's files) fails, `lenient` renders it empty. */
export type TemplateDialect = 'strict' | 'lenient';

/** What one render may spend: template steps (loop turns, calls, lookups), characters out, time. */
export const RENDER_LIMITS = { steps: 5_000_000, chars: 16_000_000, ms: 3_000, rangeLength: 1_000_000, width: 100_000 };

/**
 * Templates come from prompt files, which may be a stranger's (a cloned repository, a workspace
 * opened in Restricted Mode). Nunjucks compiles them to JavaScript and lets them read any property,
 * so `range.constructor("…")()` reaches Function and the host. Every member read goes through
 * `memberLookup` (and attribute filters through `getAttrGetter`), so those refuse the names that lead
 * from a value to its constructor or prototype; no other path reaches the Function constructor.
 * Loops, calls and output count against RENDER_LIMITS, so a template cannot hang or fill memory.
 */
const BLOCKED = new Set(['constructor', '__proto__', 'prototype', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__', 'caller', 'callee', 'arguments']);

interface Budget {
  steps: number;
  chars: number;
  deadline: number;
}
let budget: Budget | undefined;

function step(): void {
  if (!budget) return;
  if (--budget.steps < 0) throw new Error(`the template took more than ${RENDER_LIMITS.steps.toLocaleString('en-US')} steps (a loop too long?)`);
  if ((budget.steps & 1023) === 0 && Date.now() > budget.deadline) throw new Error(`rendering took more than ${RENDER_LIMITS.ms / 1000} s`);
}

function counted(value: unknown): void {
  if (budget && typeof value === 'string' && (budget.chars -= value.length) < 0) throw new Error(`the template produced more than ${RENDER_LIMITS.chars.toLocaleString('en-US')} characters`);
}

function refuse(name: unknown): void {
  if (BLOCKED.has(String(name))) throw new Error(`templates may not read '${String(name)}'`);
}

{
  type Runtime = {
    memberLookup(obj: unknown, name: unknown): unknown;
    callWrap(fn: unknown, name: string, context: unknown, args: unknown[]): unknown;
    suppressValue(value: unknown, autoescape: boolean): unknown;
    Frame: { prototype: { set(name: string, value: unknown, resolveUp?: boolean): void; push(isolate?: boolean): unknown } };
  };
  const nj = nunjucks as unknown as { runtime: Runtime; lib: { getAttrGetter(attribute: string): (obj: unknown) => unknown } };
  const runtime = nj.runtime;
  runtime.memberLookup = (obj, name) => {
    if (obj === undefined || obj === null) return undefined;
    refuse(name);
    step();
    const value = (obj as Record<string, unknown>)[name as string];
    if (typeof value !== 'function') return value;
    return (...args: unknown[]) => {
      step();
      const result = (value as (...a: unknown[]) => unknown).apply(obj, args);
      counted(result);
      return result;
    };
  };
  const callWrap = runtime.callWrap;
  runtime.callWrap = (fn, name, context, args) => {
    step();
    return callWrap(fn, name, context, args);
  };
  const suppressValue = runtime.suppressValue;
  runtime.suppressValue = (value, autoescape) => {
    const out = suppressValue(value, autoescape);
    counted(out);
    return out;
  };
  const frame = runtime.Frame.prototype;
  const set = frame.set;
  frame.set = function (this: unknown, name, value, resolveUp) {
    step();
    counted(value);
    return set.call(this, name, value, resolveUp);
  };
  const push = frame.push;
  frame.push = function (this: unknown, isolate) {
    step();
    return push.call(this, isolate);
  };
  const getAttrGetter = nj.lib.getAttrGetter;
  nj.lib.getAttrGetter = (attribute) => {
    String(attribute).split('.').forEach(refuse);
    return getAttrGetter(attribute);
  };
}

// Filters whose size argument alone can make a huge string or list; the others are bounded by
// their input, which the budget already counts.
for (const [name, widthAt] of [['center', 1], ['indent', 1], ['batch', 1], ['slice', 1]] as const) {
  const filter = (env as unknown as { getFilter(n: string): (...a: unknown[]) => unknown }).getFilter(name);
  env.addFilter(name, (...args: unknown[]) => {
    const width = Number(args[widthAt]);
    if (Number.isFinite(width) && Math.abs(width) > RENDER_LIMITS.width) throw new Error(`${name}(${width}) is larger than ${RENDER_LIMITS.width.toLocaleString('en-US')}`);
    const out = filter(...args);
    counted(out);
    return out;
  });
}
{
  const replace = (env as unknown as { getFilter(n: string): (...a: unknown[]) => unknown }).getFilter('replace');
  env.addFilter('replace', (str: unknown, old: unknown, replacement: unknown, maxCount?: unknown) => {
    const s = String(str ?? '');
    const o = String(old ?? '');
    const r = String(replacement ?? '');
    const most = s.length + (o ? Math.floor(s.length / o.length) : s.length + 1) * r.length;
    if (most > RENDER_LIMITS.chars) throw new Error(`replace could make more than ${RENDER_LIMITS.chars.toLocaleString('en-US')} characters`);
    const out = replace(str, old, replacement, maxCount);
    counted(out);
    return out;
  });
}
env.addGlobal('range', (start: number, stop?: number, stepBy?: number) => {
  if (stop === undefined) [start, stop] = [0, start];
  const by = stepBy || 1;
  const length = Math.ceil((Number(stop) - Number(start)) / by);
  if (!Number.isFinite(length)) throw new Error('range() needs numbers');
  if (length > RENDER_LIMITS.rangeLength) throw new Error(`range() of ${length.toLocaleString('en-US')} numbers is more than ${RENDER_LIMITS.rangeLength.toLocaleString('en-US')}`);
  const out: number[] = [];
  for (let i = 0; i < length; i++) out.push(Number(start) + i * by);
  return out;
});
const GLOBALS = new Set(['range', 'cycler', 'joiner', 'loop', 'caller', 'super', 'true', 'false', 'none', 'True', 'False', 'None']);

interface NjNode {
  typename: string;
  value?: unknown;
  lineno: number;
  colno: number;
  iterFields(fn: (value: unknown, field: string) => void): void;
  [field: string]: unknown;
}

function parse(source: string): NjNode {
  try {
    return (nunjucks as unknown as { parser: { parse(src: string): NjNode } }).parser.parse(source);
  } catch (err) {
    const e = err as { lineno?: number; colno?: number; message: string };
    const position = e.lineno ? { line: e.lineno - 1, character: Math.max(0, (e.colno ?? 1) - 1) } : undefined;
    throw new TemplateError(`template syntax: ${e.message.replace(/^\(unknown path\)\s*/, '')}`, position);
  }
}

/**
 * The top-level variables a template reads, each with its first position.
 * Names bound inside the template (loop variables, `set`, macro arguments) and globals are left out.
 */
export function referencedVariables(source: string): VariableRef[] {
  if (!source.includes('{{') && !source.includes('{%')) return [];
  const root = parse(source);
  const bound = new Set<string>();
  const refs: VariableRef[] = [];
  const bind = (node: unknown) => {
    const n = node as NjNode | undefined;
    if (!n || typeof n !== 'object') return;
    if (n.typename === 'Symbol') bound.add(String(n.value));
    else if (n.typename === 'Array' || n.typename === 'NodeList' || n.typename === 'KeywordArgs') n.iterFields((v) => forEachNode(v, bind));
    else if (n.typename === 'Pair') bind(n.key);
  };
  const visit = (node: unknown) => {
    const n = node as NjNode | undefined;
    if (!n || typeof n !== 'object' || typeof n.iterFields !== 'function') return;
    switch (n.typename) {
      case 'Symbol':
        refs.push({ name: String(n.value), line: n.lineno, character: n.colno });
        return;
      case 'For':
      case 'AsyncEach':
      case 'AsyncAll':
        bind(n.name);
        visit(n.arr);
        visit(n.body);
        visit(n.else_);
        return;
      case 'Set':
        forEachNode(n.targets, bind);
        visit(n.value);
        visit(n.body);
        return;
      case 'Macro':
      case 'Caller':
        bind(n.name);
        bind(n.args);
        visit(n.body);
        return;
      case 'Filter':
      case 'FilterAsync':
        visit(n.args);
        return;
      case 'FunCall': {
        const name = n.name as NjNode;
        if (!(name?.typename === 'Symbol' && GLOBALS.has(String(name.value)))) visit(name);
        visit(n.args);
        return;
      }
      case 'LookupVal':
        visit(n.target);
        if ((n.val as NjNode)?.typename !== 'Literal') visit(n.val);
        return;
      case 'KeywordArgs':
        n.iterFields((v) => forEachNode(v, (p) => visit((p as NjNode).value)));
        return;
      default:
        n.iterFields((v) => forEachNode(v, visit));
    }
  };
  visit(root);
  const seen = new Set<string>();
  return refs.filter((r) => {
    if (bound.has(r.name) || GLOBALS.has(r.name) || seen.has(r.name)) return false;
    seen.add(r.name);
    return true;
  });
}

function forEachNode(value: unknown, fn: (node: unknown) => void) {
  if (Array.isArray(value)) value.forEach(fn);
  else if (value && typeof value === 'object') {
    const n = value as NjNode;
    if (n.typename === 'NodeList' || n.typename === 'Array') (n.children as unknown[]).forEach(fn);
    else fn(value);
  }
}

const compiled: Record<TemplateDialect, Map<string, nunjucks.Template>> = { strict: new Map(), lenient: new Map() };
/** Templates that ran out of budget once: every case fails at once instead of spending it again. */
const overBudget = new Map<string, TemplateError>();

/** Renders `{{ var }}` and the Jinja-style subset (loops, conditionals, filters) without HTML escaping. */
export function renderTemplate(source: string, vars: Record<string, unknown>, dialect: TemplateDialect = 'strict'): string {
  if (!source.includes('{{') && !source.includes('{%') && !source.includes('{#')) return source;
  const cache = compiled[dialect];
  let template = cache.get(source);
  if (!template) {
    parse(source); // located syntax errors
    try {
      template = new nunjucks.Template(source, dialect === 'strict' ? env : lenientEnv, undefined, true);
    } catch (err) {
      // What the parser lets through but does not compile (`{{q"uestion}}`) is an error of the template too.
      throw new TemplateError(`template: ${(err as Error).message.replace(/^\(unknown path\)\s*/, '').replace(/^Template render error:\s*/, '').split('\n')[0] || 'it does not compile'}`);
    }
    if (cache.size > 5000) cache.clear();
    cache.set(source, template);
  }
  const known = overBudget.get(source);
  if (known) throw known;
  budget = { steps: RENDER_LIMITS.steps, chars: RENDER_LIMITS.chars, deadline: Date.now() + RENDER_LIMITS.ms };
  try {
    const out = template.render(vars);
    if (out.length > RENDER_LIMITS.chars) throw new Error(`the template produced more than ${RENDER_LIMITS.chars.toLocaleString('en-US')} characters`);
    return out;
  } catch (err) {
    const message = (err as Error).message;
    const m = /\[Line (\d+), Column (\d+)\]\s*([\s\S]*)$/.exec(message);
    const text = (m ? m[3].trim() : message.replace(/^\(unknown path\)\s*/, '')).replace(/^(Range|Type)?Error: /, '');
    const error = new TemplateError(`template: ${text}`, m ? { line: Number(m[1]) - 1, character: Math.max(0, Number(m[2]) - 1) } : undefined);
    if (/steps|characters|rendering took/.test(text)) overBudget.set(source, error);
    throw error;
  } finally {
    budget = undefined;
  }
}
