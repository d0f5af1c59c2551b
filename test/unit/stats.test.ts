import { strict as assert } from 'node:assert';
import { requiredSamples, benjaminiHochberg, fisherGreater, fisherLess, holm, minFisherLess, newcombeLower, normalQuantile, wilson, zFor } from '../../src/core/stats';

const close = (a: number, b: number, eps = 1e-4) => assert.ok(Math.abs(a - b) < eps, `${a} ≉ ${b}`);

describe('statistics', () => {
  it('Wilson intervals match published values', () => {
    const w = wilson(8, 10);
    close(w.lower, 0.4902);
    close(w.upper, 0.9433);
    const all = wilson(20, 20);
    close(all.lower, 0.8389);
    assert.equal(all.upper, 1);
    assert.deepEqual(wilson(0, 0), { lower: 0, upper: 1 });
  });

  it('the inverse normal gives the usual z values', () => {
    close(zFor(0.95), 1.959964, 1e-6);
    close(zFor(0.99), 2.575829, 1e-6);
    close(normalQuantile(0.05), -1.644854, 1e-6);
  });

  it('one-sided Fisher exact tests match direct hypergeometric sums', () => {
    close(fisherLess(10, 10, 5, 10), 0.0162539, 1e-7);
    close(fisherLess(8, 10, 3, 10), 0.0348893, 1e-7);
    assert.ok(fisherLess(5, 10, 10, 10) > 0.99, 'a rise is no evidence of a drop');
    close(fisherGreater(5, 10, 10, 10), 0.0162539, 1e-7);
    close(minFisherLess(1, 1), 0.5, 1e-12);
    close(minFisherLess(5, 5), 1 / 252, 1e-12);
  });

  it('Newcombe lower bound of a difference', () => {
    // Newcombe (1998), example: 56/70 vs 48/80, difference 0.2 with 95% CI (0.0524, 0.3339); here current − baseline.
    close(newcombeLower(48, 80, 56, 70), 0.0524, 2e-4);
  });

  it('sample size for a two-proportion test', () => {
    // 0.6 vs 0.3, one-sided alpha 0.05, power 0.8: 32.94 per group (checked with Python's statistics.NormalDist).
    assert.equal(requiredSamples(0.6, 0.3, 0.05, 0.8), 33);
  });

  it('Holm and Benjamini–Hochberg adjustments', () => {
    const p = [0.01, 0.04, 0.03, 0.005];
    holm(p).forEach((x, i) => close(x, [0.03, 0.06, 0.06, 0.02][i], 1e-12));
    benjaminiHochberg(p).forEach((x, i) => close(x, [0.02, 0.04, 0.04, 0.02][i], 1e-12));
    assert.deepEqual(holm([]), []);
  });
});
