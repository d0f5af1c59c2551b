import { lookupAssertion } from './assertions/registry';
import { minBoschlooLess, wilson, zFor, pct } from './stats';
import { sequentialP } from './sampling';
import type { CaseVerdict, FlipDriver, GateArithmetic, SampleOutcome, SamplingPolicy, VerdictPolicy } from './types/verdicts';
import type { Tally } from './types/results';

export interface VerdictInput {
  caseId: string;
  /** Every sample was cancelled before it finished. */
  skipped?: boolean;
  passRate: number;
  /** Whether the case was sampled sequentially (its p-value then spans the looks it reached). */
  sequential: boolean;
  /** The current samples in the order they were drawn. */
  current: SampleOutcome[];
  currentVersionId: string;
  baseline?: { samples: SampleOutcome[]; versionId: string };
}

export function tally(samples: readonly SampleOutcome[]): Tally {
  const counted = samples.filter((s) => !s.errored);
  return { passed: counted.filter((s) => s.pass).length, total: counted.length };
}

/**
 * The threshold each p-value is judged by once the family shares alpha, per the policy's
 * correction: Benjamini–Hochberg rejects the k smallest p-values where the k-th is at most
 * alpha·k/m; Holm steps down from alpha/m while each clears its step; `none` is alpha for each.
 * A p-value that is not rejected gets the level it would have needed.
 */
export function familyThresholds(ps: readonly number[], policy: Pick<VerdictPolicy, 'alpha' | 'correction'>): GateArithmetic[] {
  const m = ps.length;
  const a = policy.alpha;
  if (policy.correction === 'none') return ps.map(() => ({ method: 'none', alpha: a, family: m, threshold: a, rejected: 0 }));
  const order = ps.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const out = new Array<GateArithmetic>(m);
  if (policy.correction === 'holm') {
    let step = 0;
    while (step < m && order[step].p <= a / (m - step)) step++;
    order.forEach(({ i }, rank) => (out[i] = { method: 'holm', alpha: a, family: m, threshold: a / (m - Math.min(rank, step)), rejected: step }));
    return out;
  }
  let k = 0;
  order.forEach(({ p }, rank) => {
    if (p <= (a * (rank + 1)) / m) k = rank + 1;
  });
  for (const { i } of order) out[i] = { method: 'bh', alpha: a, family: m, threshold: (a * Math.max(1, k)) / m, rejected: k };
  return out;
}

/** Verdicts for a run's cases against their baselines, with alpha shared across the cases that have one. */
export function computeVerdicts(inputs: readonly VerdictInput[], policy: VerdictPolicy, sampling: SamplingPolicy): CaseVerdict[] {
  const z = zFor(policy.confidence);
  const prepared = inputs.map((input) => {
    const cur = tally(input.current);
    const base = input.baseline ? tally(input.baseline.samples) : undefined;
    const comparable = !input.skipped && base && base.total > 0 && cur.total > 0;
    const seen = input.current.map((s) => (s.errored ? undefined : s.pass));
    const looks = input.sequential ? sampling : undefined;
    return {
      input,
      cur,
      base,
      pDrop: comparable ? sequentialP(base, seen, looks, 'drop') : undefined,
      pRise: comparable ? sequentialP(base, seen, looks, 'rise') : undefined,
    };
  });
  const withP = prepared.filter((p) => p.pDrop !== undefined);
  const drops = familyThresholds(withP.map((p) => p.pDrop!), policy);
  const rises = familyThresholds(withP.map((p) => p.pRise!), policy);
  const gates = new Map(withP.map((p, i) => [p, { drop: drops[i], rise: rises[i] }]));

  return prepared.map((prep) => {
    const { input, cur, base, pDrop, pRise } = prep;
    const errored = input.current.length - cur.total;
    const rate = cur.total ? cur.passed / cur.total : 0;
    const interval = wilson(cur.passed, cur.total, z);
    const passing = cur.total > 0 && rate >= input.passRate;
    // A literal, not a spread with added fields: V8 gives each of those a map of its own (about
    // 230 bytes per case at the end of a 100,000-case run).
    const verdict: CaseVerdict = { caseId: input.caseId, kind: 'pass', passing, current: { passed: cur.passed, total: cur.total, rate, interval, errored } };
    if (base && input.baseline) {
      const stale = input.baseline.versionId !== input.currentVersionId;
      verdict.baseline = { ...base, rate: base.total ? base.passed / base.total : 0, interval: wilson(base.passed, base.total, z), versionId: input.baseline.versionId, stale };
      if (stale) verdict.note = `baseline is for content hash ${input.baseline.versionId}`;
    }
    if (input.skipped) return decided(verdict, { kind: 'skipped' });
    if (cur.total === 0) return decided(verdict, { kind: 'errored' });
    const mixed = cur.passed > 0 && cur.passed < cur.total;
    const flakyNow = mixed && interval.lower < input.passRate && interval.upper > input.passRate;
    if (!verdict.baseline || verdict.baseline.total === 0) return decided(verdict, { kind: 'new' });

    verdict.pDrop = pDrop;
    verdict.pRise = pRise;
    const gate = gates.get(prep)!;
    const b = verdict.baseline;
    const wasPassing = b.rate >= input.passRate;
    if (pDrop! <= gate.drop.threshold) {
      return decided(verdict, { kind: 'regressed', significant: true, gate: gate.drop, driver: flipDriver(input.baseline!.samples, input.current, 'drop') });
    }
    if (pRise! <= gate.rise.threshold) {
      return decided(verdict, { kind: 'improved', significant: true, gate: gate.rise, driver: flipDriver(input.baseline!.samples, input.current, 'rise') });
    }
    // A fixed sample count too small for any test to reach alpha: a flip of the pass/fail outcome still counts, marked as such.
    const powerless = !input.sequential && minBoschlooLess(b.total, cur.total) > policy.alpha;
    if (powerless && wasPassing && !passing) {
      return decided(verdict, { kind: 'regressed', significant: false, driver: flipDriver(input.baseline!.samples, input.current, 'drop'), note: joinNote(verdict.note, `${b.total} + ${cur.total} samples cannot show significance; run with --samples auto`) });
    }
    if (powerless && !wasPassing && passing) {
      return decided(verdict, { kind: 'improved', significant: false, driver: flipDriver(input.baseline!.samples, input.current, 'rise'), note: joinNote(verdict.note, `${b.total} + ${cur.total} samples cannot show significance`) });
    }
    if (flakyNow || wasPassing !== passing) {
      const note = wasPassing !== passing ? `pass rate ${pct(b.rate)} → ${pct(rate)}, not significant (p = ${(passing ? pRise : pDrop)!.toPrecision(2)})` : undefined;
      return decided(verdict, { kind: 'flaky', gate: passing ? gate.rise : gate.drop, note: joinNote(verdict.note, note) });
    }
    return decided(verdict, { kind: passing ? 'pass' : 'fail' });
  });
}

/**
 * The verdict with its outcome fields set in place: the same object a spread would make, without
 * copying it (a spread with added fields is V8's slow path, and there is one verdict per case).
 */
function decided(verdict: CaseVerdict, outcome: Partial<CaseVerdict> & Pick<CaseVerdict, 'kind'>): CaseVerdict {
  return Object.assign(verdict, outcome);
}

/** Baseline cases that this run would have covered but that no longer exist. */
export function removedVerdict(caseId: string, baseline: { samples: SampleOutcome[]; versionId: string }, confidence: number): CaseVerdict {
  const base = tally(baseline.samples);
  const rate = base.total ? base.passed / base.total : 0;
  return {
    caseId,
    kind: 'removed',
    passing: false,
    current: { passed: 0, total: 0, rate: 0, interval: { lower: 0, upper: 1 }, errored: 0 },
    baseline: { ...base, rate, interval: wilson(base.passed, base.total, zFor(confidence)), versionId: baseline.versionId, stale: false },
  };
}

/** The assertion whose pass rate moved most in the direction of the verdict. */
export function flipDriver(before: readonly SampleOutcome[], after: readonly SampleOutcome[], direction: 'drop' | 'rise'): FlipDriver | undefined {
  const rates = (samples: readonly SampleOutcome[]) => {
    const counted = samples.filter((s) => !s.errored);
    const byIndex: { type: string; passed: number; total: number }[] = [];
    for (const s of counted) {
      s.assertions.forEach((a, i) => {
        const slot = (byIndex[i] ??= { type: a.type, passed: 0, total: 0 });
        if (slot.type !== a.type) return;
        slot.total++;
        if (a.pass) slot.passed++;
      });
    }
    return byIndex;
  };
  const b = rates(before);
  const a = rates(after);
  let best: FlipDriver | undefined;
  a.forEach((slot, i) => {
    const prev = b[i];
    if (!slot || !prev || prev.type !== slot.type || !slot.total || !prev.total) return;
    const beforeRate = prev.passed / prev.total;
    const afterRate = slot.passed / slot.total;
    const move = direction === 'drop' ? beforeRate - afterRate : afterRate - beforeRate;
    if (move > 0 && (!best || move > Math.abs(best.before - best.after))) {
      const def = lookupAssertion(slot.type)?.definition;
      best = { assertion: slot.type, index: i, kind: def?.kind === 'model' ? 'judge' : 'deterministic', before: beforeRate, after: afterRate };
    }
  });
  return best;
}

const joinNote = (a: string | undefined, b: string | undefined) => [a, b].filter(Boolean).join('; ') || undefined;
