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

const compiled = new Map<string, nunjucks.Template>();

/** Renders `{{ var }}` and the Jinja-style subset (loops, conditionals, filters) without HTML escaping. */
export function renderTemplate(source: string, vars: Record<string, unknown>): string {
  if (!source.includes('{{') && !source.includes('{%') && !source.includes('{#')) return source;
  let template = compiled.get(source);
  if (!template) {
    parse(source); // located syntax errors
    template = new nunjucks.Template(source, env, undefined, true);
    if (compiled.size > 5000) compiled.clear();
    compiled.set(source, template);
  }
  try {
    return template.render(vars);
  } catch (err) {
    const message = (err as Error).message;
    const m = /\[Line (\d+), Column (\d+)\]\s*([\s\S]*)$/.exec(message);
    if (m) {
      throw new TemplateError(`template: ${m[3].trim()}`, { line: Number(m[1]) - 1, character: Math.max(0, Number(m[2]) - 1) });
    }
    throw new TemplateError(`template: ${message.replace(/^\(unknown path\)\s*/, '')}`);
  }
}
