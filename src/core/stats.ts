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

/** One-sided Fisher exact test that the current pass rate is higher than the baseline's. */
export function fisherGreater(k1: number, n1: number, k2: number, n2: number): number {
  return fisherLess(n1 - k1, n1, n2 - k2, n2);
}

/** The smallest p-value `fisherLess` can give for these sample sizes: all baseline pass, all current fail. */
export function minFisherLess(n1: number, n2: number): number {
  return fisherLess(n1, n1, 0, n2);
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

/** Holm step-down adjusted p-values, in the input order. */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/** Benjamini–Hochberg adjusted p-values (false discovery rate), in the input order. */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => b.p - a.p);
  const adjusted = new Array<number>(m);
  let running = 1;
  order.forEach(({ p, i }, idx) => {
    const rank = m - idx;
    running = Math.min(running, (p * m) / rank);
    adjusted[i] = Math.min(1, running);
  });
  return adjusted;
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

/**
 * Samples per group that a one-sided two-proportion test at level alpha needs to detect a drop
 * from p1 to p2 with the given power (normal approximation with pooled variance under H0).
 */
export function requiredSamples(p1: number, p2: number, alpha: number, power: number): number {
  const za = normalQuantile(1 - alpha);
  const zb = normalQuantile(power);
  const pbar = (p1 + p2) / 2;
  const n = (za * Math.sqrt(2 * pbar * (1 - pbar)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p1 - p2) ** 2;
  return Math.ceil(n);
}

/** A rate as a whole percentage (`0.456` → `46%`), as every report writes it. */
export const pct = (x: number) => `${Math.round(x * 100)}%`;
