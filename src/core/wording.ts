import { LOW_JUDGE_AGREEMENT } from './evaluate';
import { pct } from './stats';
import type { CaseResult } from './types/results';
import type { Step } from './types/agent';
import type { CaseVerdict } from './types/verdicts';
import type { AttackCategory, CaseOutcome, RunReport } from './types/report';

/** How verdicts read, in one place for the terminal, the reports, the editor and the panel. */

export function caseTitle(o: CaseOutcome): string {
  return `${o.spec.prompt.relFile} › ${o.spec.suite} › ${o.spec.name}`;
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * `pass rate 100% (20/20) → 10% (2/20); p = 1.2e-8 ≤ 0.015 (Benjamini–Hochberg: 0.05 × 3 regressions / 10 cases);
 * driver: icontains (deterministic) 100% → 10%`
 */
export function verdictLine(v: CaseVerdict): string {
  const now = `${pct(v.current.rate)} (${v.current.passed}/${v.current.total})`;
  const parts: string[] = [];
  if (v.baseline) parts.push(`pass rate ${pct(v.baseline.rate)} (${v.baseline.passed}/${v.baseline.total}) → ${now}`);
  else parts.push(`pass rate ${now}`);
  const arithmetic = gateLine(v);
  if (arithmetic) parts.push(arithmetic);
  else if ((v.kind === 'regressed' || v.kind === 'improved') && !v.significant) parts.push('not significant');
  if (v.driver) parts.push(`driver: ${v.driver.assertion} (${v.driver.kind}) ${pct(v.driver.before)} → ${pct(v.driver.after)}`);
  if (v.current.errored) parts.push(`${v.current.errored} errored`);
  if (v.note) parts.push(v.note);
  return parts.join('; ');
}

/**
 * The arithmetic of a regressed, improved or flaky verdict: the case's p-value beside the threshold
 * the gate judged it by, and where that threshold came from. Undefined for other verdicts.
 */
export function gateLine(v: CaseVerdict): string | undefined {
  if (!v.gate || !(v.kind === 'regressed' || v.kind === 'improved' || v.kind === 'flaky')) return undefined;
  const rising = v.kind === 'improved' || (v.kind === 'flaky' && v.passing);
  const p = rising ? v.pRise : v.pDrop;
  if (p === undefined) return undefined;
  const g = v.gate;
  const cleared = p <= g.threshold;
  const fmt = (x: number) => (x >= 0.001 ? x.toFixed(4).replace(/0+$/, '').replace(/\.$/, '') : x.toExponential(1));
  const cases = `${g.family} case${g.family === 1 ? '' : 's'}`;
  const why =
    g.method === 'bh'
      ? `Benjamini–Hochberg: ${fmt(g.alpha)} × ${Math.max(1, g.rejected)} / ${cases}`
      : g.method === 'holm'
        ? `Holm: ${fmt(g.alpha)} / ${Math.round(g.alpha / g.threshold)} of ${cases}`
        : 'alpha per case';
  return `p = ${fmt(p)} ${cleared ? '≤' : '>'} ${fmt(g.threshold)} (${why})`;
}

/** `model changed since the baseline: gpt-4o-2024-08-06 → gpt-4o-2024-11-20` when the API reported another model. */
export function driftLine(o: Pick<CaseOutcome, 'drift'>): string | undefined {
  const d = o.drift;
  if (!d) return undefined;
  return `${d.kind === 'model' ? 'model' : 'backend (system_fingerprint)'} changed since the baseline: ${d.before.join(', ')} → ${d.after.join(', ')}`;
}

/**
 * What a run's reports say about drift and the cache: the cases whose model changed since the
 * baseline, and how many verdicts rest on cached answers. Empty when neither applies.
 */
export function provenanceLines(outcomes: readonly CaseOutcome[]): string[] {
  const lines: string[] = [];
  const drifted = outcomes.filter((o) => o.drift);
  if (drifted.length) {
    const kinds = new Map<string, number>();
    for (const o of drifted) kinds.set(driftLine(o)!, (kinds.get(driftLine(o)!) ?? 0) + 1);
    for (const [line, n] of kinds) lines.push(`model drift in ${n} case${n === 1 ? '' : 's'}: ${line}`);
  }
  const cached = outcomes.filter((o) => o.cached > 0);
  if (cached.length) {
    const whole = cached.filter((o) => o.cached === o.results.length).length;
    lines.push(`${cached.length} of ${outcomes.length} verdicts rest on cached answers (${whole} entirely): they show the model as it answered then, not now; run with --no-cache (in the editor: Run fresh) to ask it`);
  }
  return lines;
}

/** `llm-rubric 0.90 → 0.40` per judged assertion (`–` when it was not judged this run; the reason when the judge failed). */
export function judgeScoreLines(o: Pick<CaseOutcome, 'judgeScores'>): string[] {
  return o.judgeScores.map((j) => `${j.assertion} ${j.before !== undefined ? `${j.before.toFixed(2)} → ` : ''}${j.after !== undefined ? j.after.toFixed(2) : j.error ? `errored: ${truncate(j.error, 140)}` : '–'}`);
}

/** `judge llm-rubric 0.90 → 0.40; judge agreement 67% (low)` for cases graded by a judge. */
export function judgeLine(o: CaseOutcome): string | undefined {
  const parts = judgeScoreLines({ judgeScores: o.judgeScores.filter((j) => j.after !== undefined || j.error) }).map((s) => `judge ${s}`);
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
  const drift = driftLine(o);
  if (drift) lines.push(drift);
  const r = failingSample(o);
  if (r) lines.push(...failureLines(r));
  if (renderDiff && o.change) lines.push('baseline → now:', renderDiff(o));
  return lines.join('\n');
}

/** One line for a case: its verdict figures, then why its failing sample failed. */
export function reasonLine(o: CaseOutcome): string {
  const r = failingSample(o);
  return [verdictLine(o.verdict), ...(r ? failureLines(r) : []), driftLine(o)].filter(Boolean).join('; ');
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

/** Cases skipped because they use something PromptGate does not run, grouped by that reason (with where it is written). */
export function unsupportedGroups(outcomes: readonly CaseOutcome[]): { reason: string; outcomes: CaseOutcome[] }[] {
  const groups = new Map<string, CaseOutcome[]>();
  for (const o of outcomes) {
    if (!o.spec.skip) continue;
    const reason = `${o.spec.skip.reason} (${o.spec.skip.where})`;
    const list = groups.get(reason);
    if (list) list.push(o);
    else groups.set(reason, [o]);
  }
  return [...groups].map(([reason, list]) => ({ reason, outcomes: list }));
}

/** `3 cases skipped, not run by PromptGate:` and one line per reason, naming the cases when there are few. */
export function unsupportedLines(outcomes: readonly CaseOutcome[], listUpTo = 3): string[] {
  const groups = unsupportedGroups(outcomes);
  if (!groups.length) return [];
  const n = groups.reduce((k, g) => k + g.outcomes.length, 0);
  const lines = [`${n} case${n === 1 ? '' : 's'} skipped: ${n === 1 ? 'it uses' : 'they use'} what PromptGate does not run`];
  for (const g of groups) {
    lines.push(`  ${g.outcomes.length} × ${g.reason}`);
    if (g.outcomes.length <= listUpTo) for (const o of g.outcomes) lines.push(`      ${caseTitle(o)}`);
  }
  return lines;
}

/** Each suite's named metrics (summed over its cases) and the metrics derived from them, one line per suite. */
export function suiteMetricLines(report: Pick<RunReport, 'suites'>): string[] {
  const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3).replace(/0+$/, ''));
  return report.suites
    .filter((s) => s.metrics?.length)
    .map((s) => `${s.prompt} › ${s.suite}: ${s.metrics!.map((m) => (m.error !== undefined ? `${m.name} = ? (${m.error})` : `${m.name}${m.derived ? ' =' : ''} ${num(m.value!)}`)).join(' · ')}`);
}

/** An agent sample's steps, one line each: each model call (its tool calls, or its answer) and each tool call with what it answered. */
export function stepLines(steps: readonly Step[], width = 160): string[] {
  return steps.map((s, i) => {
    const n = `${i + 1}`.padStart(2);
    if (s.kind === 'model') {
      const what = s.toolCalls.length ? `calls ${s.toolCalls.map((c) => `${c.name} ${c.arguments}`).join('; ')}` : `answers ${JSON.stringify(s.output)}`;
      return truncate(`${n}. model${s.turn ? ` (turn ${s.turn + 1})` : ''} ${what}  · ${Math.round(s.latencyMs)} ms${s.usage ? ` · ${s.usage.totalTokens} tokens` : ''}${s.retries ? ` · ${s.retries} ${s.retries === 1 ? 'retry' : 'retries'}` : ''}${s.source !== 'live' ? ` · ${s.source}` : ''}`, width);
    }
    const answer = s.error ? `failed: ${s.error}` : `${s.injected ? `[${s.injected}] ` : ''}→ ${s.result ?? ''}`;
    return truncate(`${n}. tool ${s.name} ${answer}`, width);
  });
}

/** Task completion of the agent samples of a run: how many reached a final answer in every turn. */
export function completionLine(outcomes: readonly CaseOutcome[]): string | undefined {
  const samples = outcomes.flatMap((o) => o.results.filter((r) => r.steps && (r.status === 'passed' || r.status === 'failed')));
  if (!samples.length) return undefined;
  const done = samples.filter((r) => !r.assertions.some((a) => a.type === 'agent')).length;
  const tools = samples.reduce((n, r) => n + r.steps!.filter((s) => s.kind === 'tool').length, 0);
  const models = samples.reduce((n, r) => n + r.steps!.filter((s) => s.kind === 'model').length, 0);
  const retried = samples.reduce((n, r) => n + r.steps!.filter((s) => s.kind === 'model' && s.retries).length, 0);
  return `agents: ${done}/${samples.length} samples completed their task (${pct(done / samples.length)}); ${(models / samples.length).toFixed(1)} model calls and ${(tools / samples.length).toFixed(1)} tool calls per sample${retried ? `; ${retried} of ${models} model calls were retried` : ''}`;
}
