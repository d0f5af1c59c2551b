import { computeVerdicts, samplePlan, seededRandom, type SamplingPolicy, type Tally, type VerdictPolicy } from '../../src/core';

/** Deterministic pseudo-random numbers (mulberry32, the generator core's attack sampling uses). */
export const rng = seededRandom;

export type Group = 'p = 1.0' | 'p = 0.98' | 'stochastic';

export interface SimCase {
  group: Group;
  p: number;
}

/** The mix, in exact shares: 3/8 with p = 1.0, 3/8 with p = 0.98, 1/4 with p drawn from 0.3–0.9. */
export function drawCases(n: number, random: () => number): SimCase[] {
  return Array.from({ length: n }, (_, i) => {
    if (i < (n * 3) / 8) return { group: 'p = 1.0' as const, p: 1 };
    if (i < (n * 6) / 8) return { group: 'p = 0.98' as const, p: 0.98 };
    return { group: 'stochastic' as const, p: 0.3 + 0.6 * random() };
  });
}

interface Sampled extends Tally {
  outcomes: boolean[];
}

/** Draws samples exactly as the runner follows a plan: the initial batch, then `next` after each batch, until it says stop. */
function follow(p: number, plan: ReturnType<typeof samplePlan>, random: () => number): Sampled {
  const outcomes: boolean[] = [];
  let target: number | undefined = plan.initial;
  while (target !== undefined) {
    while (outcomes.length < target) outcomes.push(random() < p);
    const passed = outcomes.filter(Boolean).length;
    target = plan.next?.(outcomes.length, { passed, total: outcomes.length });
  }
  return { passed: outcomes.filter(Boolean).length, total: outcomes.length, outcomes };
}

export interface Options {
  seed: number;
  trials: number;
  /** Cases per mixed run (half unchanged, half dropped); the unchanged-only and 10%-drop runs have half as many. */
  cases: number;
  drop: number;
  policy: VerdictPolicy;
  sampling: SamplingPolicy;
}

/** One run: baselines sampled with the auto plan and no baseline, then every case sampled again at `pNow` with the auto plan, then the verdicts. */
function oneRun(cases: readonly (SimCase & { pNow: number })[], random: () => number, o: Options) {
  const family = cases.length;
  const rows = cases.map((c) => {
    const base = follow(c.p, samplePlan('auto', undefined, o.policy, o.sampling), random);
    const now = follow(c.pNow, samplePlan('auto', base, o.policy, o.sampling, { family }), random);
    return { c, base, now };
  });
  const outcomes = (xs: boolean[]) => xs.map((pass) => ({ pass, assertions: [{ type: 'contains', pass }] }));
  const verdicts = computeVerdicts(
    rows.map((r, i) => ({ caseId: String(i), passRate: 0.5, sequential: true, current: outcomes(r.now.outcomes), currentVersionId: 'v', baseline: { samples: outcomes(r.base.outcomes), versionId: 'v' } })),
    o.policy,
    o.sampling,
  );
  return rows.map((r, i) => ({ ...r, regressed: verdicts[i].kind === 'regressed' }));
}

export interface GateFigures {
  trials: number;
  /** Unchanged cases of the mixed runs flagged regressed. */
  perCaseFalseAlarms: number;
  /** Mixed runs in which at least one unchanged case was flagged (false discoveries beside true ones). */
  mixedRunsWithFalseRegressed: number;
  /** Runs of unchanged cases only that the gate blocked. */
  falseBlocks: number;
  /** Runs where 10% of the cases dropped that the gate blocked. */
  tenPercentBlocked: number;
  /** Detection of the drop in the mixed runs, per group. */
  detection: Record<Group, number>;
  /** Samples per unchanged case in a candidate run (mixed and unchanged-only runs). */
  unchangedSamples: { mean: number; max: number; byGroup: Record<Group, number> };
  /** Samples of every case, dropped ones included: the cap must hold. */
  maxSamples: number;
  baselineSamples: number;
}

/**
 * The measurement, run on the functions the runner and the session use (the auto plan
 * and the verdicts): per trial, a mixed run (half unchanged, half dropped by `drop`), a run of
 * unchanged cases only, and a run in which 10% of the cases dropped.
 */
export function simulateGate(o: Options): GateFigures {
  const random = rng(o.seed);
  const half = o.cases / 2;
  const groups: Group[] = ['p = 1.0', 'p = 0.98', 'stochastic'];
  const det = Object.fromEntries(groups.map((g) => [g, [0, 0]])) as Record<Group, number[]>;
  const unchangedBy = Object.fromEntries(groups.map((g) => [g, [0, 0]])) as Record<Group, number[]>;
  let falseAlarms = 0;
  let unchanged = 0;
  let mixedFalse = 0;
  let falseBlocks = 0;
  let tenBlocked = 0;
  let maxUnchanged = 0;
  let maxSamples = 0;
  let baseSum = 0;
  let baseN = 0;
  const count = (rows: ReturnType<typeof oneRun>, changed: (i: number) => boolean) => {
    rows.forEach((r, i) => {
      baseSum += r.base.total;
      baseN++;
      maxSamples = Math.max(maxSamples, r.now.total);
      if (changed(i)) return;
      unchangedBy[r.c.group][0] += r.now.total;
      unchangedBy[r.c.group][1]++;
      maxUnchanged = Math.max(maxUnchanged, r.now.total);
    });
  };
  for (let t = 0; t < o.trials; t++) {
    const mixed = [...drawCases(half, random).map((c) => ({ ...c, pNow: c.p })), ...drawCases(half, random).map((c) => ({ ...c, pNow: Math.max(0, c.p - o.drop) }))];
    const m = oneRun(mixed, random, o);
    count(m, (i) => i >= half);
    let anyFalse = false;
    m.forEach((r, i) => {
      if (i < half) {
        unchanged++;
        if (r.regressed) (falseAlarms++, (anyFalse = true));
      } else {
        det[r.c.group][1]++;
        if (r.regressed) det[r.c.group][0]++;
      }
    });
    if (anyFalse) mixedFalse++;
    const only = oneRun(drawCases(half, random).map((c) => ({ ...c, pNow: c.p })), random, o);
    count(only, () => false);
    if (only.some((r) => r.regressed)) falseBlocks++;
    const ten = oneRun(drawCases(half, random).map((c, i) => ({ ...c, pNow: i % 10 === 0 ? Math.max(0, c.p - o.drop) : c.p })), random, o);
    count(ten, (i) => i % 10 === 0);
    if (ten.some((r) => r.regressed)) tenBlocked++;
  }
  const totalUnchanged = groups.reduce((s, g) => s + unchangedBy[g][0], 0);
  const nUnchanged = groups.reduce((s, g) => s + unchangedBy[g][1], 0);
  return {
    trials: o.trials,
    perCaseFalseAlarms: falseAlarms / unchanged,
    mixedRunsWithFalseRegressed: mixedFalse / o.trials,
    falseBlocks: falseBlocks / o.trials,
    tenPercentBlocked: tenBlocked / o.trials,
    detection: Object.fromEntries(groups.map((g) => [g, det[g][0] / det[g][1]])) as Record<Group, number>,
    unchangedSamples: { mean: totalUnchanged / nUnchanged, max: maxUnchanged, byGroup: Object.fromEntries(groups.map((g) => [g, unchangedBy[g][0] / unchangedBy[g][1]])) as Record<Group, number> },
    maxSamples,
    baselineSamples: baseSum / baseN,
  };
}
