import type { Step } from './types/agent';
import { diffArrays } from 'diff';
import type { Normalizer } from './schema';
import { normalizeOutput, numberTolerance, tokenize, tokensEqual } from './normalize';
import type { DiffSegment, JsonChange, OutputDiff } from './types/report';

/** Word-level diff; numbers within the tolerance count as equal. Unchanged stretches are whole segments. */
export function wordDiff(before: string, after: string, tolerance?: number): DiffSegment[] {
  const parts = diffArrays(tokenize(before), tokenize(after), { comparator: tokensEqual(tolerance) });
  const out: DiffSegment[] = [];
  for (const p of parts) {
    const kind = p.added ? 'added' : p.removed ? 'removed' : 'same';
    const text = p.value.join('');
    const last = out[out.length - 1];
    if (last && last.kind === kind) last.text += text;
    else out.push({ kind, text });
  }
  return out;
}

/** Structural diff of two JSON values by key path; arrays compare by index. */
export function jsonDiff(before: unknown, after: unknown, path = '$', tolerance?: number): JsonChange[] {
  if (equalJson(before, after, tolerance)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => {
      const p = /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
      if (!(k in after)) return [{ path: p, kind: 'removed' as const, before: before[k] }];
      if (!(k in before)) return [{ path: p, kind: 'added' as const, after: after[k] }];
      return jsonDiff(before[k], after[k], p, tolerance);
    });
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const n = Math.max(before.length, after.length);
    const out: JsonChange[] = [];
    for (let i = 0; i < n; i++) {
      const p = `${path}[${i}]`;
      if (i >= after.length) out.push({ path: p, kind: 'removed', before: before[i] });
      else if (i >= before.length) out.push({ path: p, kind: 'added', after: after[i] });
      else out.push(...jsonDiff(before[i], after[i], p, tolerance));
    }
    return out;
  }
  return [{ path, kind: 'changed', before, after }];
}

function equalJson(a: unknown, b: unknown, tolerance?: number): boolean {
  if (typeof a === 'number' && typeof b === 'number' && tolerance !== undefined) return Math.abs(a - b) <= tolerance;
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || !a || !b) return false;
  return JSON.stringify(a) === JSON.stringify(b) && Array.isArray(a) === Array.isArray(b);
}

/** Baseline output against current output, after normalization: a JSON structural diff when both are JSON. */
export function outputDiff(before: string, after: string, normalizers: readonly Normalizer[] = []): OutputDiff {
  const tol = numberTolerance(normalizers);
  const a = normalizeOutput(before, normalizers);
  const b = normalizeOutput(after, normalizers);
  const ja = parseJson(a);
  const jb = parseJson(b);
  if (ja.ok && jb.ok && typeof ja.value === 'object' && ja.value !== null && typeof jb.value === 'object' && jb.value !== null) {
    const changes = jsonDiff(ja.value, jb.value, '$', tol);
    return changes.length ? { kind: 'json', changes } : { kind: 'same' };
  }
  const segments = wordDiff(a, b, tol);
  return segments.every((s) => s.kind === 'same') ? { kind: 'same' } : { kind: 'text', segments };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const t = text.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(t) };
  } catch {
    return { ok: false };
  }
}

/**
 * Renders a diff as lines of text. `mark` wraps added and removed runs (ANSI colours, markdown
 * strike and bold, or plain [-x-] {+y+}); unchanged stretches longer than 2 × context words are collapsed.
 */
export function renderDiff(diff: OutputDiff, mark: { added(s: string): string; removed(s: string): string }, context = 8): string {
  if (diff.kind === 'same') return '(no change after normalization)';
  if (diff.kind === 'json') {
    return diff.changes
      .map((c) => (c.kind === 'added' ? `${c.path}: ${mark.added(JSON.stringify(c.after))}` : c.kind === 'removed' ? `${c.path}: ${mark.removed(JSON.stringify(c.before))}` : `${c.path}: ${mark.removed(JSON.stringify(c.before))} → ${mark.added(JSON.stringify(c.after))}`))
      .join('\n');
  }
  return diff.segments
    .map((s, i) => {
      if (s.kind === 'added') return mark.added(s.text);
      if (s.kind === 'removed') return mark.removed(s.text);
      const words = s.text.split(/(\s+)/);
      const keep = context * 2; // word and space tokens alternate
      const first = i === 0;
      const last = i === diff.segments.length - 1;
      if (words.length <= keep * (first || last ? 1 : 2)) return s.text;
      const head = first ? '' : words.slice(0, keep).join('');
      const tail = last ? '' : words.slice(-keep).join('');
      return `${head}…${tail}`;
    })
    .join('');
}

export const PLAIN_MARKS = { added: (s: string) => `{+${s}+}`, removed: (s: string) => `[-${s}-]` };

/** The tool calls of an agent's trajectory, one line each (`→ lookup_order {"order_id":"A1"}`). */
export function trajectoryLines(steps: readonly Step[]): string[] {
  return steps.flatMap((s) => (s.kind === 'tool' ? [`→ ${s.name} ${s.arguments}${s.injected ? ` (${s.injected})` : s.error ? ' (failed)' : ''}`] : []));
}

/** What an agent case's diff compares: the tool sequence first, then the final answer. */
export function withTrajectory(output: string, tools: readonly string[] | undefined): string {
  return tools ? `${tools.length ? tools.join('\n') : '(no tool calls)'}\n── answer ──\n${output}` : output;
}
