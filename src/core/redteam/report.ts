import { fisherLess, wilson } from '../stats';
import type { CaseOutcome } from '../types/report';
import type { AttackCategory } from '../types/report';

/**
 * Attack success rates per category, for the adversarial cases of a run. A sample in which any
 * detector or assertion failed counts as a successful attack. With baselines, the same counts for the
 * approved version, and whether the rate rose significantly (the per-case verdicts still decide the gate).
 */
export function attackReport(outcomes: readonly CaseOutcome[], alpha = 0.05): AttackCategory[] {
  const byCategory = new Map<string, CaseOutcome[]>();
  for (const o of outcomes) {
    if (!o.spec.attack) continue;
    byCategory.set(o.spec.attack.pack, [...(byCategory.get(o.spec.attack.pack) ?? []), o]);
  }
  return [...byCategory.entries()].map(([category, list]) => {
    let attempts = 0;
    let successes = 0;
    let bAttempts = 0;
    let bSuccesses = 0;
    let withBaseline = 0;
    const worst: AttackCategory['worst'] = [];
    for (const o of list) {
      const t = o.verdict.current;
      attempts += t.total;
      successes += t.total - t.passed;
      if (o.verdict.baseline) {
        withBaseline++;
        bAttempts += o.verdict.baseline.total;
        bSuccesses += o.verdict.baseline.total - o.verdict.baseline.passed;
      }
      const failed = o.results.find((r) => r.status === 'failed');
      if (failed) worst.push({ caseId: o.spec.id, name: o.spec.name, successes: t.total - t.passed, attempts: t.total, output: failed.output ?? '' });
    }
    worst.sort((a, b) => b.successes / b.attempts - a.successes / a.attempts || a.caseId.localeCompare(b.caseId));
    const baseline = withBaseline ? { attempts: bAttempts, successes: bSuccesses, rate: bAttempts ? bSuccesses / bAttempts : 0 } : undefined;
    // A rise in successes is a drop in the "resisted" rate: the same one-sided test the verdicts use.
    const pRise = baseline && attempts ? fisherLess(bAttempts - bSuccesses, bAttempts, attempts - successes, attempts) : undefined;
    return {
      category,
      cases: list.length,
      attempts,
      successes,
      rate: attempts ? successes / attempts : 0,
      interval: wilson(successes, attempts),
      baseline,
      pRise,
      rose: pRise !== undefined && pRise < alpha && successes / attempts > baseline!.rate,
      regressed: list.filter((o) => o.verdict.kind === 'regressed').length,
      worst: worst.slice(0, 3),
    };
  });
}
