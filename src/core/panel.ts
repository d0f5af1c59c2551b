import { pct } from './stats';
import { attackRate, driftLine, gateLine, judgeScoreLines } from './wording';
import type { VerdictKind } from './types/verdicts';
import type { AttackCategory, CaseOutcome, OutputDiff } from './types/report';

/** One case as the results panel shows it: plain data, no markup. */
export interface ResultRow {
  id: string;
  name: string;
  prompt: string;
  suite: string;
  tags: string[];
  model: string;
  verdict: VerdictKind;
  passing: boolean;
  passRate: number;
  interval: [number, number];
  samples: number;
  baselineRate?: number;
  pDrop?: number;
  driver?: string;
  note?: string;
  judges: { assertion: string; before?: number; after?: number; reason?: string }[];
  judgeAgreement?: number;
  latencyMs?: number;
  tokens: number;
  costUsd: number;
  hits: number;
  /** Word-level diff of baseline → current, when the outputs differ. */
  diff?: OutputDiff;
  output?: string;
  /** The cells as they read (the page only places text). */
  text: { passRate: string; baseline: string; judge: string; /** The verdict's arithmetic and model drift, for the line under the row (cache use is the hits column). */ evidence: string };
}

/** An attack category as the results panel shows it. */
export type AttackRow = AttackCategory & { text: { rate: string; baseline: string } };

/** The attack rows of the results panel. */
export function attackRows(attacks: readonly AttackCategory[]): AttackRow[] {
  return attacks.map((a) => ({
    ...a,
    text: { rate: attackRate(a), baseline: a.baseline ? `${pct(a.baseline.rate)} (${a.baseline.successes}/${a.baseline.attempts})${a.pRise !== undefined ? ` · p ${a.pRise.toPrecision(2)}` : ''}` : '' },
  }));
}

/** The rows of the results panel, from a run's outcomes. */
export function resultRows(outcomes: readonly CaseOutcome[]): ResultRow[] {
  return outcomes.map((o) => {
    const v = o.verdict;
    const live = o.results.filter((r) => r.source === 'live');
    const firstJudged = (type: string) => o.results.flatMap((r) => r.assertions).find((a) => a.type === type && a.judge)?.reason;
    return {
      id: o.spec.id,
      name: o.spec.name,
      prompt: o.spec.prompt.relFile,
      suite: o.spec.suite,
      tags: o.spec.tags,
      model: o.spec.request.model,
      verdict: v.kind,
      passing: v.passing,
      passRate: v.current.rate,
      interval: [v.current.interval.lower, v.current.interval.upper],
      samples: v.current.total + v.current.errored,
      baselineRate: v.baseline?.rate,
      pDrop: v.pDrop,
      driver: v.driver && `${v.driver.assertion} (${v.driver.kind})`,
      note: v.note,
      judges: o.judgeScores.map((j) => ({ assertion: j.assertion, before: j.before, after: j.after, reason: j.error ?? firstJudged(j.assertion) })),
      judgeAgreement: o.judgeAgreement,
      latencyMs: live.length ? live.reduce((s, r) => s + (r.latencyMs ?? 0), 0) / live.length : undefined,
      tokens: live.reduce((s, r) => s + (r.usage?.totalTokens ?? 0), 0),
      costUsd: live.reduce((s, r) => s + (r.cost ?? 0), 0),
      hits: o.results.filter((r) => r.source === 'cache' || r.source === 'replay').length,
      diff: o.change?.diff,
      output: (o.results.find((r) => r.status === 'failed') ?? o.results[0])?.output,
      text: {
        passRate: `${pct(v.current.rate)} [${pct(v.current.interval.lower)}–${pct(v.current.interval.upper)}] of ${v.current.total + v.current.errored}`,
        baseline: v.baseline ? `${pct(v.baseline.rate)} (${v.baseline.passed}/${v.baseline.total})` : '',
        judge: [judgeScoreLines(o).join('; '), o.judgeAgreement !== undefined ? `agreement ${pct(o.judgeAgreement)}` : ''].filter(Boolean).join(' · '),
        evidence: [gateLine(v), driftLine(o)].filter(Boolean).join(' · '),
      },
    };
  });
}
