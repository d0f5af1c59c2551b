import { z } from 'zod';
import { distance } from 'fastest-levenshtein';
import { runIsolated } from './isolate';
import { define, outcome, quote } from './types';

const str = z.string();
const strList = z.union([z.array(z.string()).min(1), z.string().min(1).transform((s) => s.split(',').map((x) => x.trim()))]);
const bounds = z.union([
  z.number().int().min(0),
  z
    .object({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() })
    .strict()
    .refine((b) => b.min !== undefined || b.max !== undefined, 'give min, max or both'),
]);

function containsFamily(id: string, caseless: boolean) {
  return define<string>({
    id,
    kind: 'pure',
    description: `output contains the value${caseless ? ', ignoring case' : ''}`,
    value: str,
    evaluate: ({ output, value }) => {
      const hit = caseless ? output.toLowerCase().includes(value.toLowerCase()) : output.includes(value);
      return outcome(hit, hit ? `output contains ${quote(value)}` : `output does not contain ${quote(value)}`);
    },
  });
}

function listFamily(id: string, mode: 'any' | 'all', caseless: boolean) {
  return define<string[]>({
    id,
    kind: 'pure',
    description: `output contains ${mode} of the values${caseless ? ', ignoring case' : ''}`,
    value: strList,
    evaluate: ({ output, value }) => {
      const hay = caseless ? output.toLowerCase() : output;
      const found = value.filter((v) => hay.includes(caseless ? v.toLowerCase() : v));
      const missing = value.filter((v) => !found.includes(v));
      if (mode === 'any') {
        const pass = found.length > 0;
        return outcome(pass, pass ? `output contains ${quote(found[0])}` : `output contains none of ${value.map((v) => quote(v)).join(', ')}`);
      }
      const pass = missing.length === 0;
      return outcome(
        pass,
        pass ? `output contains all ${value.length} values` : `output is missing ${missing.map((v) => quote(v)).join(', ')}`,
        found.length / value.length,
      );
    },
  });
}

function countCheck(n: number, b: number | { min?: number; max?: number }, unit: string) {
  if (typeof b === 'number') return outcome(n === b, `${unit} count is ${n}, expected exactly ${b}`);
  const ok = (b.min === undefined || n >= b.min) && (b.max === undefined || n <= b.max);
  const want = [b.min !== undefined ? `at least ${b.min}` : '', b.max !== undefined ? `at most ${b.max}` : ''].filter(Boolean).join(' and ');
  return outcome(ok, `${unit} count is ${n}, expected ${want}`);
}

export const textAssertions = [
  define<unknown>({
    id: 'equals',
    kind: 'pure',
    description: 'output equals the value exactly (objects and arrays compare as JSON)',
    value: z.unknown().refine((v) => v !== undefined, 'equals needs a value'),
    evaluate: ({ output, value }) => {
      if (typeof value === 'string') {
        const pass = output === value;
        return outcome(pass, pass ? 'output equals the expected text' : `output ${quote(output)} does not equal ${quote(value)}`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(output);
      } catch {
        return outcome(false, 'output is not JSON, so it cannot equal the expected value');
      }
      const pass = deepEqual(parsed, value);
      return outcome(pass, pass ? 'output equals the expected JSON' : 'output JSON differs from the expected value');
    },
  }),
  containsFamily('contains', false),
  containsFamily('icontains', true),
  listFamily('contains-any', 'any', false),
  listFamily('contains-all', 'all', false),
  listFamily('icontains-any', 'any', true),
  listFamily('icontains-all', 'all', true),
  define<string>({
    id: 'starts-with',
    kind: 'pure',
    description: 'output starts with the value',
    value: str,
    evaluate: ({ output, value }) => {
      const pass = output.startsWith(value);
      return outcome(pass, pass ? `output starts with ${quote(value)}` : `output starts with ${quote(output.slice(0, value.length + 10))}, not ${quote(value)}`);
    },
  }),
  define<string>({
    id: 'ends-with',
    kind: 'pure',
    description: 'output ends with the value',
    value: str,
    evaluate: ({ output, value }) => {
      const pass = output.endsWith(value);
      return outcome(pass, pass ? `output ends with ${quote(value)}` : `output ends with ${quote(output.slice(-(value.length + 10)))}, not ${quote(value)}`);
    },
  }),
  define<string, RegExp>({
    id: 'regex',
    kind: 'pure',
    description: 'output matches the regular expression (JavaScript syntax; /pattern/flags also accepted)',
    value: str.min(1),
    compile: (value) => {
      const m = /^\/(.*)\/([dgimsuvy]*)$/s.exec(value);
      return m ? new RegExp(m[1], m[2].replace('g', '')) : new RegExp(value);
    },
    evaluate: ({ output, compiled }) => {
      // Compiled here for a located syntax error; matched in the isolated worker, where a pattern
      // that backtracks for hours is stopped after a second.
      const answer = runIsolated({ kind: 'regex', source: compiled.source, flags: compiled.flags, output });
      if (!answer.ok) throw new Error(`${compiled}: ${answer.error}`);
      const pass = answer.value === 't';
      return outcome(pass, pass ? `output matches ${compiled}` : `output does not match ${compiled}`);
    },
  }),
  define<number | { min?: number; max?: number }>({
    id: 'word-count',
    kind: 'pure',
    description: 'number of words is exactly the value, or within {min, max}',
    value: bounds,
    evaluate: ({ output, value }) => countCheck(output.trim() ? output.trim().split(/\s+/u).length : 0, value, 'word'),
  }),
  define<number | { min?: number; max?: number }>({
    id: 'length',
    kind: 'pure',
    description: 'number of characters (code points) is exactly the value, or within {min, max}',
    value: bounds,
    evaluate: ({ output, value }) => countCheck([...output].length, value, 'character'),
  }),
  define<string>({
    id: 'levenshtein',
    kind: 'pure',
    description: 'edit distance to the value is at most `threshold` (default 5)',
    value: str,
    threshold: 'optional',
    evaluate: ({ output, value, threshold }) => {
      const max = threshold ?? 5;
      const d = distance(output, value);
      const longest = Math.max(output.length, value.length, 1);
      return outcome(d <= max, `edit distance ${d} (at most ${max} allowed)`, 1 - Math.min(d, longest) / longest);
    },
  }),
];

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
