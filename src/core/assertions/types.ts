import type { AssertionOutcome } from '../types/results';
import type { AssertionDefinition } from '../types/assertions';

export function define<V, C = undefined>(def: AssertionDefinition<V, C>): AssertionDefinition<unknown, unknown> {
  return def as unknown as AssertionDefinition<unknown, unknown>;
}

export function outcome(pass: boolean, reason: string, score = pass ? 1 : 0): AssertionOutcome {
  return { pass, score, reason };
}

export function quote(text: string, max = 80): string {
  const s = JSON.stringify(text);
  return s.length > max ? `${s.slice(0, max - 2)}…"` : s;
}
