import { pct, wilson } from './stats';
import { attackRate, countsLine, driftLine, gateLine, judgeScoreLines, suiteMetricLines } from './wording';
import { caseModel } from './types/cases';
import type { VerdictKind } from './types/verdicts';
import type { PromptHistory } from './history';
import type { AttackCategory, CaseOutcome, Gate, OutputDiff, RunReport } from './types/report';

/*
 * What the results panel and the HTML report show, as plain data: every figure already worded,
 * so the page (media/results.js) only places text and draws the charts.
 */

/** One case as the results panel shows it. */
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
  /** Each judged assertion: its mean score before and now, and the judge's reasons (failing samples' first). */
  judges: { assertion: string; before?: number; after?: number; reasons: string[]; error?: string }[];
  judgeAgreement?: number;
  latencyMs?: number;
  tokens: number;
  costUsd: number;
  hits: number;
  /** Word-level diff of baseline → current, when the outputs differ. */
  diff?: OutputDiff;
  output?: string;
  /** Where the case is written: `file:line` (1-based). */
  where: string;
  /** The cells as they read (the page only places text). */
  text: { passRate: string; baseline: string; judge: string; /** The verdict's arithmetic and model drift, for the line under the row (cache use is the hits column). */ evidence: string };
}

/** An attack category as the results panel shows it. */
export type AttackRow = AttackCategory & { text: { rate: string; baseline: string } };

/** A prompt × suite: its pooled pass rate, for the bar chart. */
export interface ViewGroup {
  prompt: string;
  suite: string;
  cases: number;
  passed: number;
  answered: number;
  rate: number;
  interval: [number, number];
  regressed: number;
  text: string;
}

/** One case answered by several models (providers in one file, or a run with another model than the baseline's), side by side. */
export interface Comparison {
  name: string;
  where: string;
  kind: 'providers' | 'swap';
  cells: { label: string; output: string; rate: string; verdict?: VerdictKind; passing?: boolean }[];
}

/** Everything the panel and the HTML report show of one run. */
export interface ResultsView {
  runId?: string;
  startedAt?: string;
  /** The newest run: false when the panel shows an older run opened from the history. */
  latest: boolean;
  header: { gate?: Gate; gateText: string; counts: string; totals: string };
  groups: ViewGroup[];
  /** Regressions first, then errors, failures, flaky, new, improved and passing cases. */
  rows: ResultRow[];
  attacks: AttackRow[];
  comparisons: Comparison[];
  history: PromptHistory[];
  metrics: string[];
}

export type ViewInput = Pick<RunReport, 'outcomes' | 'attacks' | 'counts'> & Partial<Pick<RunReport, 'summary' | 'gate' | 'stopped' | 'mode' | 'judge' | 'suites'>>;

const ORDER: VerdictKind[] = ['regressed', 'errored', 'fail', 'flaky', 'new', 'improved', 'pass', 'skipped', 'removed'];

/** The panel's and the report's view of a run (or of the latest outcome of each case, in the editor). */
export function resultsView(input: ViewInput, options: { history?: PromptHistory[]; latest?: boolean } = {}): ResultsView {
  const rank = (r: ResultRow) => ORDER.indexOf(r.verdict) * 2 + (r.verdict === 'new' && !r.passing ? -1 : 0);
  const rows = resultRows(input.outcomes)
    .map((r, i) => ({ r, i }))
    .sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i)
    .map((x) => x.r);
  return {
    runId: input.summary?.runId,
    startedAt: input.summary?.startedAt,
    latest: options.latest ?? true,
    header: header(input),
    groups: groups(input.outcomes),
    rows,
    attacks: attackRows(input.attacks),
    comparisons: comparisons(input.outcomes),
    history: options.history ?? [],
    metrics: input.suites ? suiteMetricLines({ suites: input.suites }) : [],
  };
}

function header(input: ViewInput): ResultsView['header'] {
  const gate = input.gate;
  const gateText = input.stopped ? `stopped (${input.stopped.reason}): the gate was not decided` : gate === 'stopped' ? 'stopped: the gate was not decided' : gate === 'failed' ? 'gate failed' : gate === 'passed' ? 'gate passed' : '';
  const s = input.summary;
  const totals: string[] = [];
  if (s) {
    totals.push(`${s.passed} passed, ${s.failed} failed, ${s.errored} errored${s.skipped ? `, ${s.skipped} skipped` : ''}`);
    totals.push(`${(s.durationMs / 1000).toFixed(2)} s`, `${s.hits}/${s.total} from ${input.mode === 'replay' ? 'cassettes' : 'cache'}`, `${s.tokens.totalTokens.toLocaleString('en-US')} tokens`, `$${s.cost > 0 && s.cost < 0.01 ? s.cost.toFixed(6) : s.cost.toFixed(4)}`);
  }
  if (input.judge?.calls) totals.push(`judge: ${input.judge.calls} calls, $${input.judge.usd.toFixed(4)}`);
  return { ...(gate ? { gate } : {}), gateText, counts: countsLine(input.counts), totals: totals.join(' · ') };
}

function groups(outcomes: readonly CaseOutcome[]): ViewGroup[] {
  const out = new Map<string, ViewGroup>();
  for (const o of outcomes) {
    const key = `${o.spec.prompt.relFile}::${o.spec.suite}`;
    const g = out.get(key) ?? { prompt: o.spec.prompt.relFile, suite: o.spec.suite, cases: 0, passed: 0, answered: 0, rate: 0, interval: [0, 0], regressed: 0, text: '' };
    g.cases++;
    g.passed += o.results.filter((r) => r.status === 'passed').length;
    g.answered += o.results.filter((r) => r.status === 'passed' || r.status === 'failed').length;
    if (o.verdict.kind === 'regressed') g.regressed++;
    out.set(key, g);
  }
  return [...out.values()].map((g) => {
    const i = wilson(g.passed, g.answered);
    const rate = g.answered ? g.passed / g.answered : 0;
    return { ...g, rate, interval: [i.lower, i.upper], text: `${pct(rate)} [${pct(i.lower)}–${pct(i.upper)}] of ${g.answered} samples, ${g.cases} case${g.cases === 1 ? '' : 's'}${g.regressed ? `, ${g.regressed} regressed` : ''}` };
  });
}

const answerOf = (o: CaseOutcome) => {
  const r = o.results.find((x) => x.status === 'failed') ?? o.results.find((x) => x.output !== undefined) ?? o.results[0];
  // A large run holds its passing samples without their answers (session/trim.ts).
  if (r && r.output === undefined && r.status === 'passed') return '(not held in memory in a run this large: `promptgate report` of this run shows it)';
  return r?.output ?? '';
};
const rateOf = (o: CaseOutcome) => `${pct(o.verdict.current.rate)} (${o.verdict.current.passed}/${o.verdict.current.total})`;
const whereOf = (o: CaseOutcome) => `${o.spec.relFile}:${o.spec.range.start.line + 1}`;

/**
 * Cases answered by more than one model in this run (a promptfoo file's providers: the same test
 * under each), and cases run with another model than their baseline's (`--model`).
 */
function comparisons(outcomes: readonly CaseOutcome[]): Comparison[] {
  const out: Comparison[] = [];
  const same = new Map<string, CaseOutcome[]>();
  for (const o of outcomes) {
    const key = `${whereOf(o)}::${o.spec.name}`;
    same.set(key, [...(same.get(key) ?? []), o]);
  }
  for (const list of same.values()) {
    if (new Set(list.map((o) => `${o.spec.prompt.provider.id}:${caseModel(o.spec)}`)).size < 2) continue;
    out.push({
      name: list[0].spec.name,
      where: whereOf(list[0]),
      kind: 'providers',
      cells: list.map((o) => ({ label: `${caseModel(o.spec)}${o.spec.prompt.provider.id && o.spec.prompt.provider.id !== 'openai' ? ` (${o.spec.prompt.provider.id})` : ''}`, output: answerOf(o), rate: rateOf(o), verdict: o.verdict.kind, passing: o.verdict.passing })),
    });
  }
  for (const o of outcomes) {
    if (!o.swap) continue;
    out.push({
      name: o.spec.name,
      where: whereOf(o),
      kind: 'swap',
      cells: [
        { label: `${o.swap.model} (baseline)`, output: o.swap.output, rate: `${pct(o.swap.passed / o.swap.total)} (${o.swap.passed}/${o.swap.total})` },
        { label: `${o.spec.prompt.model} (this run)`, output: answerOf(o), rate: rateOf(o), verdict: o.verdict.kind, passing: o.verdict.passing },
      ],
    });
  }
  return out;
}

/** The attack rows of the results panel. */
export function attackRows(attacks: readonly AttackCategory[]): AttackRow[] {
  return attacks.map((a) => ({
    ...a,
    text: { rate: attackRate(a), baseline: a.baseline ? `${pct(a.baseline.rate)} (${a.baseline.successes}/${a.baseline.attempts})${a.pRise !== undefined ? ` · p ${a.pRise.toPrecision(2)}` : ''}` : '' },
  }));
}

/** Distinct judge reasons of one assertion over a case's samples, failing samples' first, at most `max`. */
function judgeReasons(o: CaseOutcome, index: number, max = 3): string[] {
  const samples = [...o.results].sort((a, b) => Number(a.status === 'passed') - Number(b.status === 'passed'));
  const reasons = samples.map((r) => r.assertions[index]?.reason).filter((x): x is string => !!x);
  return [...new Set(reasons)].slice(0, max);
}

/** The rows of the results panel, from a run's outcomes, in the order given. */
export function resultRows(outcomes: readonly CaseOutcome[]): ResultRow[] {
  return outcomes.map((o) => {
    const v = o.verdict;
    const live = o.results.filter((r) => r.source === 'live');
    const timed = o.results.filter((r) => r.latencyMs !== undefined);
    return {
      id: o.spec.id,
      name: o.spec.name,
      prompt: o.spec.prompt.relFile,
      suite: o.spec.suite,
      tags: o.spec.tags,
      model: caseModel(o.spec),
      verdict: v.kind,
      passing: v.passing,
      passRate: v.current.rate,
      interval: [v.current.interval.lower, v.current.interval.upper],
      samples: v.current.total + v.current.errored,
      baselineRate: v.baseline?.rate,
      pDrop: v.pDrop,
      driver: v.driver && `${v.driver.assertion} (${v.driver.kind}) ${pct(v.driver.before)} → ${pct(v.driver.after)}`,
      note: v.note,
      judges: o.judgeScores.map((j) => ({ assertion: j.assertion, before: j.before, after: j.after, reasons: judgeReasons(o, j.index), ...(j.error ? { error: j.error } : {}) })),
      judgeAgreement: o.judgeAgreement,
      latencyMs: timed.length ? timed.reduce((s, r) => s + (r.latencyMs ?? 0), 0) / timed.length : undefined,
      tokens: live.reduce((s, r) => s + (r.usage?.totalTokens ?? 0), 0),
      costUsd: live.reduce((s, r) => s + (r.cost ?? 0), 0),
      hits: o.results.filter((r) => r.source === 'cache' || r.source === 'replay').length,
      diff: o.change?.diff,
      output: answerOf(o),
      where: whereOf(o),
      text: {
        passRate: `${pct(v.current.rate)} [${pct(v.current.interval.lower)}–${pct(v.current.interval.upper)}] of ${v.current.total + v.current.errored}`,
        baseline: v.baseline ? `${pct(v.baseline.rate)} (${v.baseline.passed}/${v.baseline.total}) → ${pct(v.current.rate)} (${v.current.passed}/${v.current.total})` : '',
        judge: [judgeScoreLines(o).join('; '), o.judgeAgreement !== undefined ? `agreement ${pct(o.judgeAgreement)}` : ''].filter(Boolean).join(' · '),
        evidence: [gateLine(v), driftLine(o)].filter(Boolean).join(' · '),
      },
    };
  });
}
