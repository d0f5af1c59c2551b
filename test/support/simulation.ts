import { computeVerdicts, nextSampleTarget, seededRandom, type SamplingPolicy, type Tally, type VerdictPolicy } from '../../src/core';

/** Deterministic pseudo-random numbers (mulberry32, the generator core's attack sampling uses). */
export const rng = seededRandom;

export type Group = 'near-deterministic pass' | 'near-deterministic fail' | 'stochastic';

export interface SimCase {
  group: Group;
  p: number;
}

/** The mix: three quarters near-deterministic (p ≥ 0.95 or ≤ 0.05), a quarter between 0.3 and 0.9. */
export function drawCases(n: number, random: () => number): SimCase[] {
  return Array.from({ length: n }, () => {
    const u = random();
    if (u < 0.375) return { group: 'near-deterministic pass' as const, p: 0.95 + 0.05 * random() };
    if (u < 0.75) return { group: 'near-deterministic fail' as const, p: 0.05 * random() };
    return { group: 'stochastic' as const, p: 0.3 + 0.6 * random() };
  });
}

/** Draws samples the way the runner's auto plan does, from a case whose pass probability is p. */
function sampleAuto(p: number, baseline: Tally | undefined, random: () => number, policy: VerdictPolicy, sampling: SamplingPolicy): Tally & { outcomes: boolean[] } {
  const outcomes: boolean[] = [];
  let target = nextSampleTarget(0, { passed: 0, total: 0 }, baseline, policy, sampling);
  while (target !== undefined) {
    while (outcomes.length < target) outcomes.push(random() < p);
    const t = { passed: outcomes.filter(Boolean).length, total: outcomes.length };
    target = nextSampleTarget(outcomes.length, t, baseline, policy, sampling);
  }
  return { passed: outcomes.filter(Boolean).length, total: outcomes.length, outcomes };
}

export interface GroupResult {
  group: Group | 'all';
  cases: number;
  flagged: number;
  rate: number;
  meanSamples: number;
  maxSamples: number;
  meanBaselineSamples: number;
}

export interface SimulationResult {
  /** Unchanged cases: `rate` is the false-alarm rate. */
  unchanged: GroupResult[];
  /** Cases whose pass probability dropped by `drop` (where it could): `rate` is the detection rate. */
  dropped: GroupResult[];
}

/**
 * Baselines are sampled with the auto plan and no baseline; each case is then sampled again
 * unchanged, and once more after its pass probability dropped by `drop` points.
 */
export function simulate(options: { seed: number; cases: number; drop: number; policy: VerdictPolicy; sampling: SamplingPolicy }): SimulationResult {
  const random = rng(options.seed);
  const cases = drawCases(options.cases, random);
  const rows = cases.map((c) => {
    const base = sampleAuto(c.p, undefined, random, options.policy, options.sampling);
    const baseTally = { passed: base.passed, total: base.total };
    const same = sampleAuto(c.p, baseTally, random, options.policy, options.sampling);
    const canDrop = c.p >= options.drop;
    const dropped = canDrop ? sampleAuto(c.p - options.drop, baseTally, random, options.policy, options.sampling) : undefined;
    return { c, base, same, dropped };
  });
  const toOutcomes = (o: boolean[]) => o.map((pass) => ({ pass, assertions: [{ type: 'contains', pass }] }));
  const judge = (pick: (r: (typeof rows)[number]) => (Tally & { outcomes: boolean[] }) | undefined) => {
    const subset = rows.filter((r) => pick(r));
    const verdicts = computeVerdicts(
      subset.map((r, i) => ({
        caseId: String(i),
        passRate: 0.5,
        sequential: true,
        current: toOutcomes(pick(r)!.outcomes),
        currentVersionId: 'v',
        baseline: { samples: toOutcomes(r.base.outcomes), versionId: 'v' },
      })),
      options.policy,
      options.sampling,
    );
    const groups: (Group | 'all')[] = ['near-deterministic pass', 'near-deterministic fail', 'stochastic', 'all'];
    return groups
      .map((g) => {
        const idx = subset.map((r, i) => ({ r, i })).filter(({ r }) => g === 'all' || r.c.group === g);
        const n = idx.length;
        const flagged = idx.filter(({ i }) => verdicts[i].kind === 'regressed').length;
        const samples = idx.map(({ r }) => pick(r)!.total);
        return {
          group: g,
          cases: n,
          flagged,
          rate: n ? flagged / n : 0,
          meanSamples: n ? samples.reduce((a, b) => a + b, 0) / n : 0,
          maxSamples: n ? Math.max(...samples) : 0,
          meanBaselineSamples: n ? idx.reduce((s, { r }) => s + r.base.total, 0) / n : 0,
        };
      })
      .filter((g) => g.cases > 0);
  };
  return { unchanged: judge((r) => r.same), dropped: judge((r) => r.dropped) };
}
