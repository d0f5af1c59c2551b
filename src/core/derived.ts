/*
 * Named metrics summed per prompt and suite, and metrics derived from them (promptfoo's
 * `derivedMetrics`): each a mathjs expression over the sums (`Consistency * 2`,
 * `2 * precision * recall / (precision + recall)`), evaluated in the order written, so a later one
 * may use an earlier one. mathjs evaluates expressions without access to JavaScript; it is loaded
 * only when a suite has derived metrics.
 */
import { vendor } from './vendor';
import type { CaseResult } from './types/results';
import type { DerivedMetric } from './types/cases';
import type { MetricValue } from './types/report';


/** Each named metric of a sample: the weighted mean score of its assertions with that metric. */
function sampleScores(result: CaseResult): Map<string, number> {
  const acc = new Map<string, { sum: number; weight: number }>();
  for (const a of result.assertions) {
    if (!a.metric) continue;
    const m = acc.get(a.metric) ?? { sum: 0, weight: 0 };
    m.sum += a.score * a.weight;
    m.weight += a.weight;
    acc.set(a.metric, m);
  }
  return new Map([...acc].map(([k, m]) => [k, m.weight > 0 ? m.sum / m.weight : 0]));
}

/**
 * A suite's named metrics: each case's score for the metric (its samples averaged, so the figure does
 * not grow with how many samples sampling drew), summed over the cases, as promptfoo's per-prompt
 * namedScores are for one sample each; then its derived metrics.
 */
export function suiteMetrics(outcomes: Iterable<{ results: readonly CaseResult[] }>, derived: readonly DerivedMetric[]): MetricValue[] {
  const sums = new Map<string, number>();
  for (const o of outcomes) {
    const perCase = new Map<string, { sum: number; n: number }>();
    for (const r of o.results) {
      if (r.status === 'skipped') continue;
      for (const [k, v] of sampleScores(r)) {
        const m = perCase.get(k) ?? { sum: 0, n: 0 };
        m.sum += v;
        m.n++;
        perCase.set(k, m);
      }
    }
    for (const [k, m] of perCase) sums.set(k, (sums.get(k) ?? 0) + m.sum / m.n);
  }
  const out: MetricValue[] = [...sums].sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => ({ name, value, derived: false }));
  if (!derived.length) return out;
  const evaluate = vendor.mathEvaluate();
  const scope = new Map(sums);
  for (const d of derived) {
    try {
      const value: unknown = evaluate(d.expression, scope);
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`it is ${typeof value === 'number' ? String(value) : `not a number (${typeof value})`}`);
      scope.set(d.name, value);
      out.push({ name: d.name, value, derived: true });
    } catch (err) {
      out.push({ name: d.name, error: `${d.expression}: ${(err as Error).message} (${d.where})`, derived: true });
    }
  }
  return out;
}

/** Checks an expression's syntax when the file loads; the message, or undefined when it parses. */
export function expressionProblem(expression: string): string | undefined {
  try {
    vendor.mathParse()(expression);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
