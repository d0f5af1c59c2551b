import { textAssertions } from './text';
import { jsonAssertions } from './json';
import { toolAssertions } from './tools';
import { javascriptAssertions } from './javascript';
import { metricAssertions } from './metrics';
import { modelAssertions } from './model';
import { contextAssertions } from './context';
import { pythonAssertions } from './python';
import { trajectoryAssertions } from './trajectory';
import { securityAssertions } from './security';
import type { AssertionOutcome } from '../types/results';
import { isToolCallsOutput } from '../providers/types';
import type { AssertionResult } from '../types/results';
import type { AssertionContext, AssertionDefinition, JudgeContext, Transformed } from '../types/assertions';
import type { PreparedAssertion } from '../types/assertions';

/** Every assertion type PromptGate knows; a contract test checks ids, schemas and determinism. */
export const ASSERTIONS: readonly AssertionDefinition[] = [
  ...textAssertions,
  ...jsonAssertions,
  ...toolAssertions,
  ...trajectoryAssertions,
  ...javascriptAssertions,
  ...pythonAssertions,
  ...metricAssertions,
  ...modelAssertions,
  ...contextAssertions,
  ...securityAssertions,
];

const byId = new Map(ASSERTIONS.map((a) => [a.id, a]));

export const NEGATION_PREFIX = 'not-';

/** Resolves `type` (possibly `not-` prefixed) to its definition. */
export function lookupAssertion(type: string): { definition: AssertionDefinition; negate: boolean } | undefined {
  const direct = byId.get(type);
  if (direct) return { definition: direct, negate: false };
  if (type.startsWith(NEGATION_PREFIX)) {
    const inner = byId.get(type.slice(NEGATION_PREFIX.length));
    if (inner) return { definition: inner, negate: true };
  }
  return undefined;
}

export function assertionTypeNames(): string[] {
  return ASSERTIONS.map((a) => a.id);
}

/** The output as the assertion sees it: through its transform, if it has one. */
function transformed(a: PreparedAssertion, output: string, context: AssertionContext): Transformed | AssertionOutcome {
  // An answer that only called tools is its list of calls: scripts and transforms see the list.
  const structured = isToolCallsOutput(context.response) && output === context.response.output;
  if (!a.transform) return { text: output, structured };
  try {
    return a.transform({ text: output, structured }, context);
  } catch (err) {
    return { pass: false, score: 0, reason: `transform threw: ${(err as Error).message}` };
  }
}

export function evaluateAssertion(a: PreparedAssertion, rawOutput: string, context: AssertionContext): AssertionResult {
  let r: AssertionOutcome;
  const output = transformed(a, rawOutput, context);
  if (!('text' in output)) return finishResult(a, output, true);
  try {
    if (!a.definition.evaluate) throw new Error(`'${a.type}' needs a judge`);
    r = a.definition.evaluate({ output: output.text, structured: output.structured, value: a.value, threshold: a.threshold, compiled: a.compiled, context });
  } catch (err) {
    // A check that could not be made (a script that threw or looped, a regex out of time) fails,
    // negated or not: `not-regex` must not pass because its pattern never finished.
    return finishResult(a, { pass: false, score: 0, reason: `assertion failed to evaluate: ${(err as Error).message}` }, true);
  }
  return finishResult(a, r);
}

/** Model-graded assertions: the judge's failures make an errored result, never a pass. */
export async function evaluateModelAssertion(a: PreparedAssertion, rawOutput: string, context: AssertionContext, judge: JudgeContext): Promise<AssertionResult> {
  let r: AssertionOutcome;
  const output = transformed(a, rawOutput, context);
  if (!('text' in output)) return finishResult(a, output, true);
  try {
    r = await a.definition.evaluateModel!({ output: output.text, structured: output.structured, value: a.value, threshold: a.threshold, compiled: a.compiled, context, judge });
  } catch (err) {
    r = { pass: false, score: 0, reason: `judge failed: ${(err as Error).message}`, errored: true };
  }
  return finishResult(a, r);
}

/** A model-graded assertion that was not asked because a deterministic one already failed. */
export function notJudged(a: PreparedAssertion): AssertionResult {
  return finishResult(a, { pass: false, score: 0, reason: 'not judged: a deterministic assertion of this case already failed' }, true);
}

function finishResult(a: PreparedAssertion, outcome: AssertionOutcome, skipNegation = false): AssertionResult {
  const negated = a.negate && !outcome.errored && !skipNegation;
  // Built field by field, not by spreading the outcome: outcomes come in several shapes, and a
  // spread of many shapes takes V8's slow path (a tenth of the engine's time per case).
  const r = {
    pass: negated ? !outcome.pass : outcome.pass,
    score: negated ? 1 - outcome.score : outcome.score,
    reason: negated && outcome.pass ? `${outcome.reason}, which it must not` : outcome.reason,
  } as AssertionResult;
  if (outcome.errored !== undefined) r.errored = outcome.errored;
  if (outcome.judge !== undefined) r.judge = outcome.judge;
  r.type = a.type;
  r.weight = a.weight;
  r.metric = a.metric;
  r.expected = describeExpected(a);
  return r;
}

function describeExpected(a: PreparedAssertion): string | undefined {
  const parts: string[] = [];
  if (a.value !== undefined) parts.push(typeof a.value === 'string' ? a.value : JSON.stringify(a.value));
  if (a.threshold !== undefined) parts.push(`threshold ${a.threshold}`);
  return parts.length ? `${a.negate ? 'not ' : ''}${parts.join(', ')}` : undefined;
}

/**
 * A case passes when every assertion passes, or, with a case threshold, when the weighted
 * mean score reaches it. The score is the weighted mean (1 when there are no assertions).
 */
export function combineResults(results: readonly AssertionResult[], threshold?: number): { pass: boolean; score: number } {
  const totalWeight = results.reduce((s, r) => s + r.weight, 0);
  const score = totalWeight > 0 ? results.reduce((s, r) => s + r.score * r.weight, 0) / totalWeight : results.every((r) => r.pass) ? 1 : 0;
  const pass = threshold !== undefined ? score >= threshold : results.every((r) => r.pass);
  return { pass, score };
}
