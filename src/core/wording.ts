import { LOW_JUDGE_AGREEMENT } from './evaluate';
import { pct } from './stats';
import type { CaseResult } from './types/results';
import type { CaseVerdict } from './types/verdicts';
import type { AttackCategory, CaseOutcome } from './types/report';

/** How verdicts read, in one place for the terminal, the reports, the editor and the panel. */

export function caseTitle(o: CaseOutcome): string {
  return `${o.spec.prompt.relFile} › ${o.spec.suite} › ${o.spec.name}`;
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

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

/** `llm-rubric 0.90 → 0.40` per judged assertion (`–` when it was not judged this run). */
export function judgeScoreLines(o: Pick<CaseOutcome, 'judgeScores'>): string[] {
  return o.judgeScores.map((j) => `${j.assertion} ${j.before !== undefined ? `${j.before.toFixed(2)} → ` : ''}${j.after !== undefined ? j.after.toFixed(2) : '–'}`);
}

/** `judge llm-rubric 0.90 → 0.40; judge agreement 67% (low)` for cases graded by a judge. */
export function judgeLine(o: CaseOutcome): string | undefined {
  const parts = judgeScoreLines({ judgeScores: o.judgeScores.filter((j) => j.after !== undefined) }).map((s) => `judge ${s}`);
  if (o.judgeAgreement !== undefined) parts.push(`judge agreement ${pct(o.judgeAgreement)}${o.judgeAgreement < LOW_JUDGE_AGREEMENT ? ' (low: this verdict rests on an inconsistent judge)' : ''}`);
  return parts.length ? parts.join('; ') : undefined;
}

/** The sample that best shows why a case is not green: the first failing or errored one. */
export function failingSample(o: Pick<CaseOutcome, 'results'>): CaseResult | undefined {
  return o.results.find((r) => r.status === 'failed') ?? o.results.find((r) => r.status === 'errored');
}

/** The reasons a sample did not pass, one line each. */
export function failureLines(r: CaseResult): string[] {
  if (r.error) return [`${r.error.kind}: ${r.error.message}`];
  return r.assertions.filter((a) => !a.pass).map((a) => `${a.type}${a.metric ? ` (${a.metric})` : ''}: ${a.reason}`);
}

/** Everything that explains a non-green case, as plain lines (JUnit messages, annotations, the editor). */
export function explain(o: CaseOutcome, renderDiff?: (o: CaseOutcome) => string): string {
  const lines = [`${o.verdict.kind}: ${verdictLine(o.verdict)}`];
  const judge = judgeLine(o);
  if (judge) lines.push(judge);
  const r = failingSample(o);
  if (r) lines.push(...failureLines(r));
  if (renderDiff && o.change) lines.push('baseline → now:', renderDiff(o));
  return lines.join('\n');
}

/** One line for a case: its verdict figures, then why its failing sample failed. */
export function reasonLine(o: CaseOutcome): string {
  const r = failingSample(o);
  return [verdictLine(o.verdict), ...(r ? failureLines(r) : [])].join('; ');
}

/** A short title for a case's verdict (a CodeLens, a status): `⚠ regressed 100% → 20%`, `✓ 5/5`. */
export function verdictTitle(v: CaseVerdict): string {
  const rate = `${v.current.passed}/${v.current.total}`;
  switch (v.kind) {
    case 'regressed':
      return `⚠ regressed ${v.baseline ? `${pct(v.baseline.rate)} ` : ''}→ ${pct(v.current.rate)}`;
    case 'errored':
      return '✗ errored';
    case 'flaky':
      return `~ flaky ${rate}`;
    case 'improved':
      return `↑ improved ${rate}`;
    case 'skipped':
      return '○ skipped';
    default:
      return v.passing ? `✓ ${rate}` : `✗ ${rate}${v.kind === 'fail' ? ' (approved failing)' : ''}`;
  }
}

/** A short title for several cases: `⚠ 2 regressed`, else `✓ 4/4` or `✗ 3/4`. */
export function verdictsTitle(verdicts: readonly CaseVerdict[]): string | undefined {
  if (!verdicts.length) return undefined;
  const regressed = verdicts.filter((v) => v.kind === 'regressed').length;
  if (regressed) return `⚠ ${regressed} regressed`;
  const passing = verdicts.filter((v) => v.passing).length;
  return `${passing === verdicts.length ? '✓' : '✗'} ${passing}/${verdicts.length}`;
}

/** `3 pass, 1 regressed`: the non-zero counts. */
export function countsLine(counts: Record<string, number>): string {
  return Object.entries(counts).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(', ');
}

/** `12% [4%–30%] (3/25)`: a rate with its interval and counts. */
export function attackRate(a: Pick<AttackCategory, 'rate' | 'interval' | 'successes' | 'attempts'>): string {
  return `${pct(a.rate)} [${pct(a.interval.lower)}–${pct(a.interval.upper)}] (${a.successes}/${a.attempts})`;
}

/** `12% [4%–30%] (3/25); baseline 4% (1/25) → +8 pts, p = 0.30` */
export function attackRateLine(a: AttackCategory): string {
  const now = attackRate(a);
  if (!a.baseline) return `${now}; no baseline`;
  const pts = Math.round((a.rate - a.baseline.rate) * 100);
  return `${now}; baseline ${pct(a.baseline.rate)} (${a.baseline.successes}/${a.baseline.attempts}) → ${pts >= 0 ? '+' : ''}${pts} pts${a.pRise !== undefined ? `, p = ${a.pRise.toPrecision(2)}` : ''}${a.rose ? ', a significant rise' : ''}`;
}

/** Whether a non-green case is an attack from a pack (summarised per category, not listed one by one). */
export const isPackAttack = (o: CaseOutcome) => !!o.spec.attack && o.spec.attack.pack !== 'custom';
