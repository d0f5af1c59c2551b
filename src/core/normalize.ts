import { canonicalJson } from './canonical';
import type { Normalizer } from './schema';

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const ISO_DATETIME = /\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?\b/g;
const ISO_DATE = /\b\d{4}-\d{2}-\d{2}\b/g;
const SLASH_DATE = /\b\d{1,2}\/\d{1,2}\/\d{2,4}\b/g;
const MONTH_DATE = /\b(?:\d{1,2} )?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}\b/gi;
const CLOCK = /\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?\b/gi;

/** Number tolerance from a suite's normalizers: the tolerance, or undefined for exact numbers. */
export function numberTolerance(normalizers: readonly Normalizer[]): number | undefined {
  for (const n of normalizers) {
    if (n === 'numbers') return 1e-9;
    if (typeof n === 'object') return n.numbers.tolerance;
  }
  return undefined;
}

/**
 * Rewrites an output so that noise does not count as change: whitespace runs, UUIDs,
 * timestamps and dates become placeholders; JSON is re-serialised with sorted keys.
 * Number tolerance is applied by comparison (see outputsEqual and diffs), not here.
 */
export function normalizeOutput(text: string, normalizers: readonly Normalizer[]): string {
  let out = text;
  const has = (name: string) => normalizers.includes(name as Normalizer);
  if (has('json')) {
    try {
      out = canonicalJson(JSON.parse(out), 2);
    } catch {
      // not JSON: left as it is
    }
  }
  if (has('uuid')) out = out.replace(UUID, '<uuid>');
  if (has('timestamp')) {
    out = out.replace(ISO_DATETIME, '<timestamp>').replace(ISO_DATE, '<date>').replace(SLASH_DATE, '<date>').replace(MONTH_DATE, '<date>').replace(CLOCK, '<time>');
  }
  if (has('whitespace')) out = out.replace(/\s+/g, ' ').trim();
  return out;
}

const TOKEN = /-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|[\p{L}\p{M}_]+|\s+|[^\s\p{L}\p{M}\d_]/giu;

export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

export function tokensEqual(tolerance: number | undefined): (a: string, b: string) => boolean {
  return (a, b) => {
    if (a === b) return true;
    if (tolerance === undefined) return false;
    const x = Number(a);
    const y = Number(b);
    return a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && Number.isFinite(y) && Math.abs(x - y) <= tolerance;
  };
}

/** Whether two outputs are the same once normalized (numbers within the tolerance). */
export function outputsEqual(a: string, b: string, normalizers: readonly Normalizer[]): boolean {
  const na = normalizeOutput(a, normalizers);
  const nb = normalizeOutput(b, normalizers);
  if (na === nb) return true;
  const tol = numberTolerance(normalizers);
  if (tol === undefined) return false;
  const ta = tokenize(na);
  const tb = tokenize(nb);
  const eq = tokensEqual(tol);
  return ta.length === tb.length && ta.every((t, i) => eq(t, tb[i]));
}
