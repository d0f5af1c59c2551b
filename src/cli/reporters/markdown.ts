import { attackRateLine, caseTitle, failingSample, failureLines, gateLine, isPackAttack, judgeLine, pct, PLAIN_MARKS, provenanceLines, renderDiff, suiteMetricLines, truncate, unsupportedGroups, type CaseOutcome } from '../../core';
import type { RunReport } from './types';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const fence = (s: string) => {
  const ticks = '`'.repeat(Math.max(3, ...[...s.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  return `${ticks}text\n${s}\n${ticks}`;
};

/** A pull-request summary: gate, verdict counts, regressions with rates, p-values, drivers and diffs. */
export function markdownReport(report: RunReport): string {
  const out: string[] = [];
  out.push(`## PromptGate: ${report.stopped ? `⚠️ stopped (${report.stopped.reason}): the gate was not decided` : report.gate === 'failed' ? '❌ gate failed' : '✅ gate passed'}`, '');
  const counts = Object.entries(report.counts).filter(([, n]) => n > 0);
  out.push('| verdict | cases |', '| --- | ---: |', ...counts.map(([k, n]) => `| ${k} | ${n} |`), '');

  const regressed = report.outcomes.filter((o) => o.verdict.kind === 'regressed');
  if (regressed.length) {
    out.push(`### Regressions (${regressed.length})`, '', '| case | before | now | p-value against the threshold | flip driver | judge |', '| --- | ---: | ---: | --- | --- | --- |');
    for (const o of regressed) {
      const v = o.verdict;
      const driver = v.driver ? `${v.driver.assertion} (${v.driver.kind}) ${pct(v.driver.before)} → ${pct(v.driver.after)}` : '';
      out.push(`| ${cell(caseTitle(o))} | ${pct(v.baseline!.rate)} (${v.baseline!.passed}/${v.baseline!.total}) | ${pct(v.current.rate)} (${v.current.passed}/${v.current.total}) | ${cell(gateLine(v) ?? 'not significant: too few samples for any test, a pass/fail flip')} | ${cell(driver)} | ${cell(judgeLine(o) ?? '')} |`);
    }
    out.push('');
    for (const o of regressed) out.push(...details(o));
  }

  if (report.attacks.length) {
    out.push('### Attack success by category', '', '| category | cases | success rate [95% CI] | baseline | regressed | worst |', '| --- | ---: | --- | --- | ---: | --- |');
    for (const a of report.attacks) {
      const [now, base] = attackRateLine(a).split('; ');
      const worst = a.worst[0] ? `${a.worst[0].name}: ${truncate(a.worst[0].output.replace(/\s+/g, ' '), 60)}` : '';
      out.push(`| ${a.rose ? '❌ ' : ''}${a.category} | ${a.cases} | ${now} | ${cell(base ?? '')} | ${a.regressed} | ${cell(worst)} |`);
    }
    out.push('');
  }

  const failing = report.outcomes.filter((o) => o.verdict.kind === 'errored' || (o.verdict.kind === 'new' && !o.verdict.passing && !isPackAttack(o)));
  if (failing.length) {
    out.push(`### Failing without a baseline, or errored (${failing.length})`, '', '| case | reason |', '| --- | --- |');
    for (const o of failing) {
      const r = failingSample(o);
      out.push(`| ${cell(caseTitle(o))} | ${cell(r ? failureLines(r).join('; ') : '')} |`);
    }
    out.push('');
  }

  const flaky = report.outcomes.filter((o) => o.verdict.kind === 'flaky' || o.verdict.kind === 'improved');
  if (flaky.length) {
    out.push(`### Flaky and improved (${flaky.length})`, '', '| case | verdict | before | now |', '| --- | --- | ---: | ---: |');
    for (const o of flaky) {
      const v = o.verdict;
      out.push(`| ${cell(caseTitle(o))} | ${v.kind} | ${v.baseline ? pct(v.baseline.rate) : ''} | ${pct(v.current.rate)} (${v.current.passed}/${v.current.total}) |`);
    }
    out.push('');
  }
  const unsupported = unsupportedGroups(report.outcomes);
  if (unsupported.length) {
    out.push(`### Skipped: not run by PromptGate (${unsupported.reduce((n, g) => n + g.outcomes.length, 0)})`, '', '| cases | reason |', '| ---: | --- |');
    for (const g of unsupported) out.push(`| ${g.outcomes.length} | ${cell(g.reason)} |`);
    out.push('');
  }
  const metrics = suiteMetricLines(report);
  if (metrics.length) out.push('### Metrics (summed over each suite\'s cases; = derived)', '', ...metrics.map((l) => `- ${cell(l)}`), '');
  const provenance = provenanceLines(report.outcomes);
  if (provenance.length) out.push(...provenance.map((l) => `> ⚠️ ${l}`), '');
  if (report.removed.length) out.push(`${report.removed.length} approved case(s) no longer exist: ${report.removed.map((v) => `\`${v.caseId}\``).join(', ')}`, '');

  const s = report.summary;
  out.push(`${s.total} samples: ${s.passed} passed, ${s.failed} failed, ${s.errored} errored${s.skipped ? `, ${s.skipped} skipped` : ''} · ${(s.durationMs / 1000).toFixed(1)} s · ${s.tokens.totalTokens} tokens · $${s.cost.toFixed(4)} (cache hits excluded)`);
  return `${out.join('\n')}\n`;
}

function details(o: CaseOutcome): string[] {
  if (!o.change) return [];
  return [`<details><summary>${escapeHtml(caseTitle(o))}: baseline → now</summary>`, '', fence(renderDiff(o.change.diff, PLAIN_MARKS)), '', '</details>', ''];
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
