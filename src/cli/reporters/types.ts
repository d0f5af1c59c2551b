import { LOW_JUDGE_AGREEMENT, type AttackCategory, type CaseOutcome, type CaseResult, type CaseVerdict, type PromptSpec, type RunSummary, type VerdictKind } from '../../core';

/** What a finished run hands to the file and stdout reporters. */
export interface RunReport {
  summary: RunSummary;
  /** Live judge calls and their cost, when model-graded assertions ran. */
  judge?: { calls: number; tokens: number; usd: number };
  prompts: PromptSpec[];
  /** Each case that ran, with its samples, verdict and change against the baseline. */
  outcomes: CaseOutcome[];
  /** Attack success per category, for the adversarial cases that ran. */
  attacks: AttackCategory[];
  /** Approved cases that no longer exist. */
  removed: CaseVerdict[];
  counts: Record<VerdictKind, number>;
  /** Whether any verdict blocks the gate (exit code 1). */
  gateFailed: boolean;
  /** Why the run ended before every case ran (Ctrl-C, the budget, a refused key): the gate was not decided. */
  stopped?: string;
  mode: 'live' | 'replay' | 'record';
  /** Makes a project-relative path relative to where the user stands. */
  display(relFile: string): string;
}

export function caseTitle(o: CaseOutcome): string {
  return `${o.spec.prompt.relFile} › ${o.spec.suite} › ${o.spec.name}`;
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export const pct = (x: number) => `${Math.round(x * 100)}%`;

/** `100% (5/5) → 20% (1/5), p = 0.0024; driver: icontains (deterministic) 100% → 20%` */
export function verdictLine(v: CaseVerdict): string {
  const now = `${pct(v.current.rate)} (${v.current.passed}/${v.current.total})`;
  const parts: string[] = [];
  if (v.baseline) parts.push(`pass rate ${pct(v.baseline.rate)} (${v.baseline.passed}/${v.baseline.total}) → ${now}`);
  else parts.push(`pass rate ${now}`);
  const p = v.kind === 'improved' ? v.pRise : v.pDrop;
  if ((v.kind === 'regressed' || v.kind === 'improved') && p !== undefined) parts.push(`p = ${p.toPrecision(2)}${v.significant ? '' : ' (not significant)'}`);
  if (v.driver) parts.push(`driver: ${v.driver.assertion} (${v.driver.kind}) ${pct(v.driver.before)} → ${pct(v.driver.after)}`);
  if (v.current.errored) parts.push(`${v.current.errored} errored`);
  if (v.note) parts.push(v.note);
  return parts.join('; ');
}

/** `judge llm-rubric 0.90 → 0.40; judge agreement 67% (low)` for cases graded by a judge. */
export function judgeLine(o: CaseOutcome): string | undefined {
  const parts = o.judgeScores
    .filter((j) => j.after !== undefined)
    .map((j) => `judge ${j.assertion} ${j.before !== undefined ? `${j.before.toFixed(2)} → ` : ''}${j.after!.toFixed(2)}`);
  if (o.judgeAgreement !== undefined) parts.push(`judge agreement ${pct(o.judgeAgreement)}${o.judgeAgreement < LOW_JUDGE_AGREEMENT ? ' (low: this verdict rests on an inconsistent judge)' : ''}`);
  return parts.length ? parts.join('; ') : undefined;
}

/** The sample that best shows why a case is not green: the first failing or errored one. */
export function failingSample(o: CaseOutcome): CaseResult | undefined {
  return o.results.find((r) => r.status === 'failed') ?? o.results.find((r) => r.status === 'errored');
}

/** The reasons a sample did not pass, one line each. */
export function failureLines(r: CaseResult): string[] {
  if (r.error) return [`${r.error.kind}: ${r.error.message}`];
  return r.assertions.filter((a) => !a.pass).map((a) => `${a.type}${a.metric ? ` (${a.metric})` : ''}: ${a.reason}`);
}

/** Everything that explains a non-green case, as plain lines (JUnit messages, annotations). */
export function explain(o: CaseOutcome, renderDiff?: (o: CaseOutcome) => string): string {
  const lines = [`${o.verdict.kind}: ${verdictLine(o.verdict)}`];
  const judge = judgeLine(o);
  if (judge) lines.push(judge);
  const r = failingSample(o);
  if (r) lines.push(...failureLines(r));
  if (renderDiff && o.change) lines.push('baseline → now:', renderDiff(o));
  return lines.join('\n');
}

/** `12% [4%–30%] (3/25); baseline 4% (1/25) → +8 pts, p = 0.30` */
export function attackRateLine(a: AttackCategory): string {
  const now = `${pct(a.rate)} [${pct(a.interval.lower)}–${pct(a.interval.upper)}] (${a.successes}/${a.attempts})`;
  if (!a.baseline) return `${now}; no baseline`;
  const pts = Math.round((a.rate - a.baseline.rate) * 100);
  return `${now}; baseline ${pct(a.baseline.rate)} (${a.baseline.successes}/${a.baseline.attempts}) → ${pts >= 0 ? '+' : ''}${pts} pts${a.pRise !== undefined ? `, p = ${a.pRise.toPrecision(2)}` : ''}${a.rose ? ', a significant rise' : ''}`;
}

/** Whether a non-green case is an attack from a pack (summarised per category, not listed one by one). */
export const isPackAttack = (o: CaseOutcome) => !!o.spec.attack && o.spec.attack.pack !== 'custom';
