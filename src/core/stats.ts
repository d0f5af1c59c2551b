/** Statistics for verdicts over repeated samples. Pure functions, unit-tested against known values. */

export interface Interval {
  lower: number;
  upper: number;
}

/** z for a two-sided confidence level (0.9, 0.95, 0.99, …), via the inverse normal CDF. */
export function zFor(confidence: number): number {
  return normalQuantile(1 - (1 - confidence) / 2);
}

/** Wilson score interval for k successes in n trials; [0, 1] when n is 0. */
export function wilson(k: number, n: number, z = 1.959963984540054): Interval {
  if (n === 0) return { lower: 0, upper: 1 };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

const logFactorials: number[] = [0];
function logFactorial(n: number): number {
  for (let i = logFactorials.length; i <= n; i++) logFactorials[i] = logFactorials[i - 1] + Math.log(i);
  return logFactorials[n];
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

/**
 * One-sided Fisher exact test that the current pass rate (k2 of n2) is lower than the
 * baseline's (k1 of n1): P(X ≥ k1) for X hypergeometric given both margins.
 */
export function fisherLess(k1: number, n1: number, k2: number, n2: number): number {
  const K = k1 + k2;
  const N = n1 + n2;
  const hi = Math.min(n1, K);
  const lo = Math.max(0, K - n2);
  if (k1 < lo || k1 > hi) return 1;
  const denom = logChoose(N, n1);
  let p = 0;
  for (let x = k1; x <= hi; x++) p += Math.exp(logChoose(K, x) + logChoose(N - K, n1 - x) - denom);
  return Math.min(1, p);
}

/**
 * Boschloo's exact unconditional test that the current pass rate (k2 of n2) is lower than the
 * baseline's (k1 of n1): the largest probability, over every common pass rate π the two could
 * share, of a table at least as extreme by Fisher's p-value. Exact like Fisher's test (its size
 * never exceeds the level) and never less powerful, because it does not condition on the total
 * number of passes: a baseline of 20/20 against 14/20 now is p = 0.005 here, 0.010 by Fisher.
 * The supremum is taken over a grid of 99 values of π, refined around the largest.
 * Above MAX_BOSCHLOO_SAMPLES on either side Fisher's p is returned: the difference is small there,
 * the exact search would cost milliseconds per case, and the binomial terms would underflow.
 */
export function boschlooLess(k1: number, n1: number, k2: number, n2: number): number {
  if (n1 === 0 || n2 === 0) return 1;
  if (n1 > MAX_BOSCHLOO_SAMPLES || n2 > MAX_BOSCHLOO_SAMPLES) return fisherLess(k1, n1, k2, n2);
  const key = `${k1},${n1},${k2},${n2}`;
  const known = boschlooMemo.get(key);
  if (known !== undefined) return known;
  const fisher = fisherTable(n1, n2);
  const observed = fisher[k1 * (n2 + 1) + k2] * (1 + 1e-9);
  // The tables at least as extreme: for each baseline count x, Fisher's p grows with the current
  // count y, so they are the y from 0 up to a limit.
  const upto = new Int32Array(n1 + 1);
  for (let x = 0; x <= n1; x++) {
    let y = 0;
    while (y <= n2 && fisher[x * (n2 + 1) + y] <= observed) y++;
    upto[x] = y;
  }
  const size = (pi: number) => {
    const p1 = binomialPmf(n1, pi);
    const cdf2 = binomialPmf(n2, pi);
    for (let y = 1; y <= n2; y++) cdf2[y] += cdf2[y - 1];
    let s = 0;
    for (let x = 0; x <= n1; x++) if (upto[x] > 0) s += p1[x] * cdf2[upto[x] - 1];
    return s;
  };
  let best = 0;
  let at = 0.5;
  for (let i = 1; i < 100; i++) {
    const s = size(i / 100);
    if (s > best) (best = s), (at = i / 100);
  }
  for (let i = -10; i <= 10; i++) {
    const pi = at + i / 1000;
    if (pi >= 0.005 && pi <= 0.995) best = Math.max(best, size(pi));
  }
  const p = Math.min(1, Math.max(best, 0));
  if (boschlooMemo.size > 100_000) boschlooMemo.clear();
  boschlooMemo.set(key, p);
  return p;
}

/** Boschloo's test that the current pass rate is higher than the baseline's. */
export function boschlooGreater(k1: number, n1: number, k2: number, n2: number): number {
  return boschlooLess(n1 - k1, n1, n2 - k2, n2);
}

/** The smallest p-value `boschlooLess` can give for these sample sizes: all baseline pass, all current fail. */
export function minBoschlooLess(n1: number, n2: number): number {
  return boschlooLess(n1, n1, 0, n2);
}

const MAX_BOSCHLOO_SAMPLES = 100;
const boschlooMemo = new Map<string, number>();
const fisherTables = new Map<string, Float64Array>();

/** Fisher's one-sided p for every table with these margins, the order Boschloo's test ranks tables by. */
function fisherTable(n1: number, n2: number): Float64Array {
  const key = `${n1},${n2}`;
  let t = fisherTables.get(key);
  if (!t) {
    t = new Float64Array((n1 + 1) * (n2 + 1));
    for (let x = 0; x <= n1; x++) for (let y = 0; y <= n2; y++) t[x * (n2 + 1) + y] = fisherLess(x, n1, y, n2);
    if (fisherTables.size > 256) fisherTables.clear();
    fisherTables.set(key, t);
  }
  return t;
}

/** Binomial probabilities by the ratio of neighbours (no logarithms: this is the test's inner loop). */
function binomialPmf(n: number, p: number): Float64Array {
  const out = new Float64Array(n + 1);
  const odds = p / (1 - p);
  out[0] = (1 - p) ** n;
  for (let k = 1; k <= n; k++) out[k] = (out[k - 1] * (n - k + 1) * odds) / k;
  return out;
}

/**
 * Lower bound of (current − baseline) pass rate, by Newcombe's hybrid score method
 * (his method 10) from the two Wilson intervals.
 */
export function newcombeLower(k1: number, n1: number, k2: number, n2: number, z = 1.959963984540054): number {
  const p1 = n1 ? k1 / n1 : 0;
  const p2 = n2 ? k2 / n2 : 0;
  const w1 = wilson(k1, n1, z);
  const w2 = wilson(k2, n2, z);
  return p2 - p1 - Math.sqrt((p2 - w2.lower) ** 2 + (w1.upper - p1) ** 2);
}

/** Acklam's rational approximation of the inverse standard normal CDF (relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0 || p >= 1) throw new RangeError('p must be in (0, 1)');
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const plow = 0.02425;
  if (p < plow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - plow) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** A rate as a whole percentage (`0.456` → `46%`), as every report writes it. */
export const pct = (x: number) => `${Math.round(x * 100)}%`;
