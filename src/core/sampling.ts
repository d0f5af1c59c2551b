import { fisherGreater, fisherLess, newcombeLower, normalQuantile, wilson } from './stats';
import type { SamplePlan } from './types/results';
import type { Tally } from './types/results';
import type { SamplingPolicy, VerdictPolicy } from './types/verdicts';



export const DEFAULT_VERDICT_POLICY: VerdictPolicy = { alpha: 0.05, correction: 'none', effect: 0.3, confidence: 0.95, futility: 0.99 };
export const DEFAULT_SAMPLING: SamplingPolicy = { min: 5, max: 60, baselineMin: 27 };


/** Sample counts at which auto sampling looks at the evidence: min, then ×1.5, up to max. */
export function looks(s: SamplingPolicy): number[] {
  const out: number[] = [];
  for (let n = Math.max(1, s.min); n < s.max; n = Math.max(n + 1, Math.ceil(n * 1.5))) out.push(n);
  out.push(Math.max(s.min, s.max));
  return out;
}

/** Each look spends an equal share of alpha (Bonferroni over looks), so stopping early does not inflate false alarms. */
export function alphaPerLook(policy: VerdictPolicy, sampling: SamplingPolicy): number {
  return policy.alpha / looks(sampling).length;
}


/**
 * Auto sampling: how many samples (indices) the case should have in all, or undefined to stop.
 * With a baseline: stop when a drop or rise is significant at this look's alpha, when a drop of
 * `effect` is ruled out (one-sided Newcombe bound at the futility confidence), or when the
 * baseline is too low to drop that far. Without one (this run may become the baseline): stop when
 * at least `baselineMin` samples all agree, else sample to the maximum, so that a baseline is
 * strong enough to compare against.
 */
export function nextSampleTarget(scheduled: number, current: Tally, baseline: Tally | undefined, policy: VerdictPolicy, sampling: SamplingPolicy): number | undefined {
  const schedule = looks(sampling);
  const next = schedule.find((n) => n > scheduled);
  if (scheduled < schedule[0]) return schedule[0];
  if (next === undefined) return undefined;
  const { passed: k2, total: n2 } = current;
  if (n2 === 0) return next; // every sample so far errored: the evidence is still to come
  if (!baseline || baseline.total === 0) return (k2 === 0 || k2 === n2) && n2 >= sampling.baselineMin ? undefined : next;
  const { passed: k1, total: n1 } = baseline;
  const a = alphaPerLook(policy, sampling);
  const zf = normalQuantile(policy.futility);
  if (fisherLess(k1, n1, k2, n2) < a || fisherGreater(k1, n1, k2, n2) < a) return undefined;
  if (wilson(k1, n1, zf).upper < policy.effect) return undefined;
  if (newcombeLower(k1, n1, k2, n2, zf) > -policy.effect) return undefined;
  return next;
}

/** The runner's plan for a case: a fixed number of samples, or auto sampling against its baseline. */
export function samplePlan(samples: number | 'auto', baseline: Tally | undefined, policy: VerdictPolicy, sampling: SamplingPolicy): SamplePlan {
  if (samples !== 'auto') return { initial: samples };
  return {
    initial: looks(sampling)[0],
    next: (scheduled, tally) => nextSampleTarget(scheduled, tally, baseline, policy, sampling),
  };
}
