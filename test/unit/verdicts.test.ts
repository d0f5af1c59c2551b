import { strict as assert } from 'node:assert';
import { DEFAULT_SAMPLING, DEFAULT_VERDICT_POLICY, computeVerdicts, looks, nextSampleTarget, type SampleOutcome, type VerdictInput } from '../../src/core';

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

  it('Holm correction across cases can withdraw a marginal regression', () => {
    const marginal = input(samples(3, 10), samples(9, 10), { caseId: 'm' });
    const others = Array.from({ length: 9 }, (_, i) => input(samples(5, 5), samples(5, 5), { caseId: `o${i}` }));
    assert.equal(computeVerdicts([marginal, ...others], DEFAULT_VERDICT_POLICY, DEFAULT_SAMPLING)[0].kind, 'regressed');
    const corrected = computeVerdicts([marginal, ...others], { ...DEFAULT_VERDICT_POLICY, correction: 'holm' }, DEFAULT_SAMPLING)[0];
    assert.notEqual(corrected.kind, 'regressed');
  });

  it('sequential cases use the per-look alpha', () => {
    const i = input(samples(3, 10), samples(9, 10));
    assert.equal(verdict(i).kind, 'regressed');
    assert.notEqual(verdict({ ...i, sequential: true }).kind, 'regressed');
  });
});

describe('auto sampling', () => {
  it('looks at 5, 8, 12, 18, 27, 41 and 60 samples', () => {
    assert.deepEqual(looks(DEFAULT_SAMPLING), [5, 8, 12, 18, 27, 41, 60]);
    assert.deepEqual(looks({ min: 3, max: 3, baselineMin: 3 }), [3]);
  });

  const next = (scheduled: number, k: number, n: number, base?: [number, number]) =>
    nextSampleTarget(scheduled, { passed: k, total: n }, base && { passed: base[0], total: base[1] }, DEFAULT_VERDICT_POLICY, DEFAULT_SAMPLING);

  it('without a baseline, stops when at least 27 samples agree and otherwise samples to the maximum', () => {
    assert.equal(next(0, 0, 0), 5);
    assert.equal(next(5, 5, 5), 8);
    assert.equal(next(27, 27, 27), undefined);
    assert.equal(next(27, 0, 27), undefined);
    assert.equal(next(5, 3, 5), 8);
    assert.equal(next(41, 20, 41), 60);
    assert.equal(next(60, 30, 60), undefined);
  });

  it('with a baseline, stops on a clear drop, when a drop of the effect is ruled out, or when the baseline cannot drop that far', () => {
    assert.equal(next(12, 0, 12, [60, 60]), undefined, 'clear drop');
    assert.equal(next(12, 12, 12, [60, 60]), 18, 'twelve passes do not yet rule out a 30-point drop at 99%');
    assert.equal(next(18, 18, 18, [60, 60]), undefined, 'eighteen do');
    assert.equal(next(5, 0, 5, [1, 60]), undefined, 'a baseline near zero cannot drop 30 points');
    assert.equal(next(5, 3, 5, [36, 60]), 8, 'stochastic: keep sampling');
  });

  it('keeps sampling when every sample so far errored', () => {
    assert.equal(next(5, 0, 0, [5, 5]), 8);
  });
});
