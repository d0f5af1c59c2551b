import { strict as assert } from 'node:assert';
import { DEFAULT_SAMPLING, DEFAULT_VERDICT_POLICY, verdictLine, baselineShortfall, computeVerdicts, looks, nextSampleTarget, samplePlan, sequentialP, type SampleOutcome, type VerdictInput } from '../../src/core';

/** k passing samples out of n, where the second assertion decides the outcome. */
function samples(k: number, n: number, errored = 0): SampleOutcome[] {
  const out: SampleOutcome[] = [];
  for (let i = 0; i < n; i++) out.push({ pass: i < k, assertions: [{ type: 'is-json', pass: true }, { type: 'icontains', pass: i < k }] });
  for (let i = 0; i < errored; i++) out.push({ pass: false, errored: true, assertions: [] });
  return out;
}

function input(current: SampleOutcome[], baseline?: SampleOutcome[], over: Partial<VerdictInput> = {}): VerdictInput {
  return { caseId: 'c', passRate: 0.5, sequential: false, current, currentVersionId: 'v1', baseline: baseline && { samples: baseline, versionId: 'v1' }, ...over };
}

const verdict = (i: VerdictInput, policy = DEFAULT_VERDICT_POLICY) => computeVerdicts([i], policy, DEFAULT_SAMPLING)[0];

describe('verdicts', () => {
  it('new without a baseline; pass and fail when nothing changed', () => {
    assert.equal(verdict(input(samples(3, 3))).kind, 'new');
    assert.equal(verdict(input(samples(5, 5), samples(5, 5))).kind, 'pass');
    assert.equal(verdict(input(samples(0, 5), samples(0, 5))).kind, 'fail');
  });

  it('regressed when the pass rate is significantly lower, naming the assertion that flipped', () => {
    const v = verdict(input(samples(5, 20), samples(20, 20)));
    assert.equal(v.kind, 'regressed');
    assert.equal(v.significant, true);
    assert.ok(v.pDrop! < 0.001);
    assert.deepEqual(v.driver, { assertion: 'icontains', index: 1, kind: 'deterministic', before: 1, after: 0.25 });
    assert.equal(v.baseline!.rate, 1);
    assert.equal(v.current.rate, 0.25);
  });

  it('improved when significantly higher', () => {
    const v = verdict(input(samples(20, 20), samples(4, 20)));
    assert.equal(v.kind, 'improved');
    assert.equal(v.driver!.assertion, 'icontains');
  });

  it('a change that is not significant is flaky, not a regression', () => {
    const v = verdict(input(samples(9, 10), samples(10, 10)));
    assert.equal(v.kind, 'pass', 'both above the pass rate, no significant change');
    const w = verdict(input(samples(4, 10), samples(6, 10)));
    assert.equal(w.kind, 'flaky');
    assert.match(w.note!, /pass rate 60% → 40%, not significant/);
  });

  it('flaky when the interval straddles the required pass rate', () => {
    assert.equal(verdict(input(samples(6, 12), samples(6, 12))).kind, 'flaky');
    assert.equal(verdict(input(samples(6, 12), samples(6, 12), { passRate: 0.1 })).kind, 'pass');
  });

  it('a single-sample flip is a regression marked as not significant', () => {
    const v = verdict(input(samples(0, 1), samples(1, 1)));
    assert.equal(v.kind, 'regressed');
    assert.equal(v.significant, false);
    assert.match(v.note!, /1 \+ 1 samples cannot show significance/);
    assert.equal(verdict(input(samples(1, 1), samples(0, 1))).kind, 'improved');
  });

  it('flags a baseline of another prompt version, and errored cases', () => {
    const v = verdict(input(samples(5, 5), samples(5, 5), { currentVersionId: 'v2' }));
    assert.equal(v.kind, 'pass');
    assert.equal(v.baseline!.stale, true);
    assert.equal(v.note, 'baseline is for content hash v1');
    assert.equal(verdict(input(samples(0, 0, 3), samples(5, 5))).kind, 'errored');
    const partly = verdict(input(samples(5, 5, 2), samples(5, 5)));
    assert.equal(partly.current.errored, 2);
    assert.equal(partly.current.total, 5);
  });

  it('alpha is shared across the cases with a baseline: a marginal drop that stands alone is withdrawn in a large family', () => {
    const marginal = input(samples(3, 10), samples(9, 10), { caseId: 'm' });
    assert.equal(verdict(marginal).kind, 'regressed', 'alone, p ≈ 0.002 clears 0.05');
    const others = Array.from({ length: 99 }, (_, i) => input(samples(5, 5), samples(5, 5), { caseId: `o${i}` }));
    const v = computeVerdicts([marginal, ...others], DEFAULT_VERDICT_POLICY, DEFAULT_SAMPLING)[0];
    assert.notEqual(v.kind, 'regressed');
    assert.equal(v.gate!.family, 100);
    assert.equal(computeVerdicts([marginal, ...others], { ...DEFAULT_VERDICT_POLICY, correction: 'none' }, DEFAULT_SAMPLING)[0].kind, 'regressed');
  });

  it('a regression carries its arithmetic: both tallies, the p-value and the threshold it cleared', () => {
    const drops = Array.from({ length: 3 }, (_, i) => input(samples(2, 20), samples(20, 20), { caseId: `d${i}` }));
    const others = Array.from({ length: 7 }, (_, i) => input(samples(20, 20), samples(20, 20), { caseId: `o${i}` }));
    const v = computeVerdicts([...drops, ...others], DEFAULT_VERDICT_POLICY, DEFAULT_SAMPLING)[0];
    assert.equal(v.kind, 'regressed');
    assert.deepEqual({ base: [v.baseline!.passed, v.baseline!.total], now: [v.current.passed, v.current.total] }, { base: [20, 20], now: [2, 20] });
    assert.ok(v.pDrop! < 1e-6);
    assert.deepEqual(v.gate, { method: 'bh', alpha: 0.05, family: 10, threshold: (0.05 * 3) / 10, rejected: 3 });
    assert.match(verdictLine(v), /^pass rate 100% \(20\/20\) → 10% \(2\/20\); p = \d\.\de-\d+ ≤ 0\.015 \(Benjamini–Hochberg: 0\.05 × 3 \/ 10 cases\)/);
  });

  it("a sequential case's p-value spans the looks it reached, each look with its share of alpha", () => {
    const base = { passed: 20, total: 20 };
    const now = [...Array(12).fill(true), ...Array(18).fill(false)];
    const p = sequentialP(base, now, DEFAULT_SAMPLING, 'drop');
    // Looks 5, 8, 12, 20 and 30 were reached, each an interim look with 0.5% of alpha: p = Boschloo's p at 30 / 0.005.
    assert.ok(p > 1e-4 && p < 1e-3, String(p));
    assert.equal(sequentialP(base, Array(12).fill(true), DEFAULT_SAMPLING, 'drop'), 1);
    assert.ok(sequentialP(base, now, undefined, 'drop') < p, 'one fixed look spends all of alpha');
  });

  it("sequential cases test at a look's share of alpha", () => {
    const i = input(samples(3, 10), samples(9, 10));
    assert.equal(verdict(i).kind, 'regressed');
    assert.notEqual(verdict({ ...i, sequential: true }).kind, 'regressed');
  });
});

describe('auto sampling', () => {
  it('looks at 5, 8, 12, 20, 30, 40 and 60 samples', () => {
    assert.deepEqual(looks(DEFAULT_SAMPLING), [5, 8, 12, 20, 30, 40, 60]);
    assert.deepEqual(looks({ min: 3, max: 3 }), [3]);
    assert.deepEqual(looks({ min: 1, max: 9 }), [1, 2, 3, 5, 6, 9]);
  });

  const next = (scheduled: number, k: number, n: number, base?: [number, number], family = 1) =>
    nextSampleTarget(scheduled, { passed: k, total: n }, base && { passed: base[0], total: base[1] }, DEFAULT_VERDICT_POLICY, DEFAULT_SAMPLING, { family });

  it('without a baseline, stops at 20 agreeing samples, 30 with one disagreeing, else at 40', () => {
    assert.equal(next(0, 0, 0), 5);
    assert.equal(next(5, 5, 5), 8);
    assert.equal(next(12, 12, 12), 20);
    assert.equal(next(20, 20, 20), undefined);
    assert.equal(next(20, 0, 20), undefined);
    assert.equal(next(20, 19, 20), 30);
    assert.equal(next(30, 29, 30), undefined);
    assert.equal(next(30, 28, 30), 40);
    assert.equal(next(40, 20, 40), undefined);
  });

  it('a baseline is strong enough to approve when the same rule would have stopped there', () => {
    assert.equal(baselineShortfall({ passed: 1, total: 1 }, DEFAULT_SAMPLING), '1/1 samples; a baseline needs 20 agreeing');
    assert.equal(baselineShortfall({ passed: 19, total: 20 }, DEFAULT_SAMPLING), '19/20 samples; a baseline needs 30');
    assert.equal(baselineShortfall({ passed: 10, total: 20 }, DEFAULT_SAMPLING), '10/20 samples; a baseline needs 40');
    assert.equal(baselineShortfall({ passed: 20, total: 20 }, DEFAULT_SAMPLING), undefined);
    assert.equal(baselineShortfall({ passed: 21, total: 41 }, DEFAULT_SAMPLING), undefined);
  });

  it('with a baseline, stops on a clear drop, when a drop of the effect is ruled out, or when the baseline cannot drop that far', () => {
    assert.equal(next(12, 0, 12, [40, 40]), undefined, 'clear drop');
    assert.equal(next(8, 8, 8, [40, 40]), 12, 'eight passes do not yet rule out a 30-point drop at 98%');
    assert.equal(next(12, 12, 12, [40, 40]), undefined, 'twelve do');
    assert.equal(next(5, 0, 5, [1, 40]), undefined, 'a baseline near zero cannot drop 30 points');
    assert.equal(next(5, 3, 5, [24, 40]), 8, 'stochastic: keep sampling');
  });

  it('a drop stops sampling early only once it clears the strictest threshold of its family', () => {
    assert.equal(next(8, 2, 8, [20, 20]), undefined, 'alone, 2/8 against 20/20 is decisive at an interim look');
    assert.equal(next(8, 2, 8, [20, 20], 400), 12, 'among 400 cases it samples on');
  });

  it('keeps sampling when every sample so far errored', () => {
    assert.equal(next(5, 0, 0, [5, 5]), 8);
  });

  it('confirm: one sample, and auto sampling only when it fails where the baseline passes', () => {
    const plan = (base?: [number, number]) => samplePlan('confirm', base && { passed: base[0], total: base[1] }, DEFAULT_VERDICT_POLICY, DEFAULT_SAMPLING, { family: 1, passRate: 1 });
    assert.equal(plan([20, 20]).initial, 1);
    assert.equal(plan([20, 20]).next!(1, { passed: 1, total: 1 }), undefined, 'agrees with the baseline');
    assert.equal(plan([20, 20]).next!(1, { passed: 0, total: 1 }), 5, 'fails where the baseline passes');
    assert.equal(plan([20, 20]).next!(5, { passed: 0, total: 5 }), undefined, 'then follows the auto plan: 0/5 against 20/20 is decisive');
    assert.equal(plan([0, 20]).next!(1, { passed: 0, total: 1 }), undefined, 'a failing baseline: nothing to confirm');
    assert.equal(plan(undefined).next!(1, { passed: 0, total: 1 }), undefined);
  });
});
