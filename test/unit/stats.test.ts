import { strict as assert } from 'node:assert';
import { boschlooGreater, boschlooLess, fisherLess, minBoschlooLess, newcombeLower, normalQuantile, wilson, zFor } from '../../src/core/stats';
import { familyThresholds } from '../../src/core/verdicts';

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
    close(fisherLess(5, 5, 0, 5), 1 / 252, 1e-12);
  });

  it("Boschloo's exact test matches SciPy's boschloo_exact and is never weaker than Fisher's", () => {
    // scipy.stats.boschloo_exact([[k1, k2], [n1 - k1, n2 - k2]], alternative='greater', n=64), SciPy 1.17.
    const scipy: [number, number, number, number, number][] = [
      [20, 20, 14, 20, 0.004871],
      [10, 10, 5, 10, 0.00639],
      [8, 10, 3, 10, 0.02069],
      [7, 12, 1, 12, 0.005139],
      [27, 27, 41, 60, 0.0001578],
      [1, 1, 0, 1, 0.25],
      [20, 20, 0, 1, 0.01795],
    ];
    for (const [k1, n1, k2, n2, p] of scipy) {
      const got = boschlooLess(k1, n1, k2, n2);
      assert.ok(Math.abs(got - p) / p < 2e-3, `${k1}/${n1} vs ${k2}/${n2}: ${got} ≉ ${p}`);
      assert.ok(got <= fisherLess(k1, n1, k2, n2) + 1e-12);
    }
    close(boschlooGreater(14, 20, 20, 20), 0.004871, 1e-5);
    assert.equal(boschlooLess(5, 10, 10, 10), 1, 'a rise is no evidence of a drop');
    close(minBoschlooLess(1, 1), 0.25, 1e-6);
    assert.equal(boschlooLess(3, 200, 1, 200), fisherLess(3, 200, 1, 200), 'large samples fall back to Fisher');
  });

  it("Boschloo's test keeps its level: under any common pass rate, p ≤ 0.05 at most 5% of the time", () => {
    // Exact size: the probability of every table whose p is at most 0.05, at several common rates.
    const [n1, n2] = [20, 12];
    for (const pi of [0.1, 0.5, 0.8, 0.97]) {
      let size = 0;
      for (let x = 0; x <= n1; x++) {
        for (let y = 0; y <= n2; y++) {
          if (boschlooLess(x, n1, y, n2) > 0.05) continue;
          size += binom(n1, x, pi) * binom(n2, y, pi);
        }
      }
      assert.ok(size <= 0.05 + 1e-9, `size ${size} at π = ${pi}`);
    }
  });

  it('Newcombe lower bound of a difference', () => {
    // Newcombe (1998), example: 56/70 vs 48/80, difference 0.2 with 95% CI (0.0524, 0.3339); here current − baseline.
    close(newcombeLower(48, 80, 56, 70), 0.0524, 2e-4);
  });

  it('thresholds across the family: Benjamini–Hochberg and Holm reject what their adjusted p-values would', () => {
    // Adjusted p-values of [0.01, 0.04, 0.03, 0.005]: BH [0.02, 0.04, 0.04, 0.02], Holm [0.03, 0.06, 0.06, 0.02].
    const p = [0.01, 0.04, 0.03, 0.005];
    const bh = familyThresholds(p, { alpha: 0.05, correction: 'bh' });
    assert.deepEqual(bh.map((t, i) => p[i] <= t.threshold), [true, true, true, true]);
    assert.equal(bh[0].rejected, 4);
    close(bh[0].threshold, 0.05);
    const bh3 = familyThresholds(p, { alpha: 0.035, correction: 'bh' });
    assert.deepEqual(bh3.map((t, i) => p[i] <= t.threshold), [true, false, false, true], 'adjusted 0.04 > 0.035');
    const holm = familyThresholds(p, { alpha: 0.05, correction: 'holm' });
    assert.deepEqual(holm.map((t, i) => p[i] <= t.threshold), [true, false, false, true]);
    close(holm[3].threshold, 0.0125);
    close(holm[1].threshold, 0.025, 1e-12);
    assert.deepEqual(familyThresholds(p, { alpha: 0.05, correction: 'none' }).map((t) => t.threshold), [0.05, 0.05, 0.05, 0.05]);
    assert.deepEqual(familyThresholds([], { alpha: 0.05, correction: 'bh' }), []);
  });
});

function binom(n: number, k: number, p: number): number {
  let c = 1;
  for (let i = 0; i < k; i++) c = (c * (n - i)) / (i + 1);
  return c * p ** k * (1 - p) ** (n - k);
}
