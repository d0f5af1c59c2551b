import { boschlooGreater, boschlooLess, newcombeLower, normalQuantile, wilson } from './stats';
import type { SamplePlan } from './types/results';
import type { Tally } from './types/results';
import type { SamplingPolicy, VerdictPolicy } from './types/verdicts';

export const DEFAULT_VERDICT_POLICY: VerdictPolicy = { alpha: 0.05, correction: 'bh', effect: 0.3, confidence: 0.95, futility: 0.98 };
export const DEFAULT_SAMPLING: SamplingPolicy = { min: 5, max: 60 };

/**
 * Sample counts at which auto sampling looks at the evidence: three early looks from `min`
 * (min, 1.6×, 2.4×: 5, 8, 12) where clean cases stop, then a third, a half, two thirds of `max`
 * and `max` itself (20, 30, 40, 60), where the baseline rule and the later futility rule apply.
 */
export function looks(s: SamplingPolicy): number[] {
  const min = Math.max(1, Math.min(s.min, s.max));
  const points = [min, Math.ceil(min * 1.6), Math.ceil(min * 2.4), Math.round(s.max / 3), Math.round(s.max / 2), Math.round((2 * s.max) / 3), s.max];
  return [...new Set(points.filter((n) => n >= min && n <= s.max))].sort((a, b) => a - b);
}

/**
 * The share of a case's alpha that each look spends: 0.5% at each interim look, the rest at the
 * last. Interim looks only stop a case whose evidence is overwhelming, so nearly all of the level
 * is kept for the look where a real drop of a stochastic case shows (the issue measured an equal
 * split testing at 0.0071 per look). A case's p-value is the smallest p/share over the looks it
 * reached (Bonferroni over looks), valid whenever sampling stopped.
 */
export function lookShares(s: SamplingPolicy): number[] {
  const at = looks(s);
  const interim = 0.005;
  return at.map((_, i) => (i < at.length - 1 ? interim : 1 - interim * (at.length - 1)));
}

/**
 * The p-value of a drop (or rise) for a case sampled at these looks: the smallest Boschloo p over
 * the looks reached, each divided by its share. `outcomes` are the current samples in order
 * (`undefined` for an errored one); a fixed-size run is one look at its size with the whole share.
 */
export function sequentialP(baseline: Tally, outcomes: readonly (boolean | undefined)[], sampling: SamplingPolicy | undefined, direction: 'drop' | 'rise'): number {
  const test = direction === 'drop' ? boschlooLess : boschlooGreater;
  const at = sampling ? looks(sampling) : [outcomes.length];
  const shares = sampling ? lookShares(sampling) : [1];
  let best = 1;
  let passed = 0;
  let total = 0;
  let i = 0;
  at.forEach((n, j) => {
    if (n > outcomes.length) return;
    for (; i < n; i++) {
      if (outcomes[i] === undefined) continue;
      total++;
      if (outcomes[i]) passed++;
    }
    if (total > 0) best = Math.min(best, test(baseline.passed, baseline.total, passed, total) / shares[j]);
  });
  return Math.min(1, best);
}

/** The futility confidence at a look: the policy's before half the maximum, halfway to certainty from there (98% → 99%). */
function futilityZ(n: number, policy: VerdictPolicy, sampling: SamplingPolicy): number {
  return normalQuantile(n >= sampling.max / 2 ? 1 - (1 - policy.futility) / 2 : policy.futility);
}

/**
 * Whether a run without a baseline has enough samples to become one: every sample agreeing at a
 * third of the maximum (20), at most one disagreeing at half (30), anything at two thirds (40).
 * Near-deterministic cases are settled early; a stochastic one gets enough for a later drop of
 * `effect` to show against it.
 */
export function baselineSettled(t: Tally, scheduled: number, sampling: SamplingPolicy): boolean {
  const minority = Math.min(t.passed, t.total - t.passed);
  return (scheduled >= Math.round(sampling.max / 3) && minority === 0) || (scheduled >= Math.round(sampling.max / 2) && minority <= 1) || scheduled >= Math.round((2 * sampling.max) / 3);
}

/** What a baseline of this tally lacks to be approved, or undefined when it is strong enough. */
export function baselineShortfall(t: Tally, sampling: SamplingPolicy): string | undefined {
  if (t.total >= sampling.max || baselineSettled(t, t.total, sampling)) return undefined;
  const minority = Math.min(t.passed, t.total - t.passed);
  const need = minority === 0 ? Math.round(sampling.max / 3) : minority === 1 ? Math.round(sampling.max / 2) : Math.round((2 * sampling.max) / 3);
  return `${t.passed}/${t.total} samples; a baseline needs ${need}${minority === 0 ? ' agreeing' : ''}`;
}

/** The context a case's auto plan needs beyond its own tally. */
export interface PlanContext {
  /** Cases in the run that have a baseline: the family the gate's threshold is shared over. */
  family: number;
}

/**
 * Auto sampling: how many samples (indices) the case should have in all, or undefined to stop.
 * With a baseline: stop when the drop's p-value already clears the strictest threshold the gate
 * can use (alpha over the family: it is then regressed whatever the other cases show), when a
 * rise is as clear, when a drop of `effect` is ruled out (one-sided Newcombe bound at the
 * futility confidence), or when the baseline is too low to drop that far. Otherwise sample on,
 * up to the maximum: a case stops only once it clears the threshold or is ruled out. Without a
 * baseline (this run may become one): stop once `baselineSettled`.
 */
export function nextSampleTarget(scheduled: number, current: Tally, baseline: Tally | undefined, policy: VerdictPolicy, sampling: SamplingPolicy, context: PlanContext = { family: 1 }): number | undefined {
  const schedule = looks(sampling);
  const next = schedule.find((n) => n > scheduled);
  if (scheduled < schedule[0]) return schedule[0];
  if (next === undefined) return undefined;
  const { passed: k2, total: n2 } = current;
  if (n2 === 0) return next; // every sample so far errored: the evidence is still to come
  if (!baseline || baseline.total === 0) return baselineSettled(current, scheduled, sampling) ? undefined : next;
  const { passed: k1, total: n1 } = baseline;
  // This look's p over its share bounds the case's p-value from above, so clearing it here is enough.
  const share = lookShares(sampling)[schedule.indexOf(scheduled)] ?? lookShares(sampling)[0];
  const strictest = (policy.alpha / Math.max(1, context.family)) * share;
  if (boschlooLess(k1, n1, k2, n2) <= strictest || boschlooGreater(k1, n1, k2, n2) <= strictest) return undefined;
  const zf = futilityZ(scheduled, policy, sampling);
  if (wilson(k1, n1, zf).upper < policy.effect) return undefined;
  if (newcombeLower(k1, n1, k2, n2, zf) > -policy.effect) return undefined;
  return next;
}

/**
 * The runner's plan for a case:
 * - a fixed number of samples;
 * - `auto`: sequential sampling against its baseline (above);
 * - `confirm`, the default for a case without a judge: one sample, and auto sampling only when
 *   that sample fails where the baseline passes, so a plain run costs one call per case and a
 *   regression it glimpses is confirmed or dismissed by evidence rather than by one flip.
 */
export function samplePlan(samples: number | 'auto' | 'confirm', baseline: Tally | undefined, policy: VerdictPolicy, sampling: SamplingPolicy, context: PlanContext & { passRate?: number } = { family: 1 }): SamplePlan {
  if (typeof samples === 'number') return { initial: samples };
  const auto = (scheduled: number, tally: Tally) => nextSampleTarget(scheduled, tally, baseline, policy, sampling, context);
  if (samples === 'auto') return { initial: looks(sampling)[0], next: auto };
  const baselinePasses = !!baseline && baseline.total > 0 && baseline.passed / baseline.total >= (context.passRate ?? 1);
  return {
    initial: 1,
    next: (scheduled, tally) => {
      if (scheduled === 1) return baselinePasses && tally.total === 1 && tally.passed === 0 ? looks(sampling)[0] : undefined;
      return auto(scheduled, tally);
    },
  };
}
