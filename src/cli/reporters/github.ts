import { attackRateLine, blocksGate, caseTitle, driftLine, explain, isPackAttack, PLAIN_MARKS, provenanceLines, renderDiff, unsupportedGroups } from '../../core';
import type { RunReport } from './types';

// Workflow commands: data escapes %, CR, LF; properties also , and :.
const escData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escProp = (s: string) => escData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** GitHub Actions annotations at each case that blocks the gate (errors) or is flaky (warnings), then the totals. */
export function githubAnnotations(report: RunReport): string {
  const lines: string[] = [];
  for (const o of report.outcomes) {
    const v = o.verdict;
    const blocking = blocksGate(v);
    if (!blocking && v.kind !== 'flaky') continue;
    // Failing pack attacks are one annotation per category below; regressions stay on their own.
    if (isPackAttack(o) && v.kind !== 'regressed') continue;
    const label = v.kind === 'new' ? 'failed' : v.kind;
    const message = explain(o, (x) => renderDiff(x.change!.diff, PLAIN_MARKS)).replace(/^new: [^\n]*\n/, '');
    lines.push(`::${blocking ? 'error' : 'warning'} file=${escProp(report.display(o.spec.relFile))},line=${o.spec.range.start.line + 1},title=${escProp(`PromptGate ${label}: ${caseTitle(o)}`)}::${escData(message)}`);
  }
  for (const o of report.outcomes) {
    if (!o.drift || blocksGate(o.verdict)) continue;
    lines.push(`::warning file=${escProp(report.display(o.spec.relFile))},line=${o.spec.range.start.line + 1},title=${escProp(`PromptGate model drift: ${caseTitle(o)}`)}::${escData(driftLine(o)!)}`);
  }
  // One notice per construct PromptGate skipped, where it is written.
  for (const g of unsupportedGroups(report.outcomes)) {
    const at = /\(([^()]+):(\d+):\d+\)$/.exec(g.reason);
    const where = at ? `file=${escProp(report.display(at[1]))},line=${at[2]},` : '';
    lines.push(`::warning ${where}title=${escProp(`PromptGate: ${g.outcomes.length} case${g.outcomes.length === 1 ? '' : 's'} skipped`)}::${escData(g.reason)}`);
  }
  for (const a of report.attacks) {
    const failing = report.outcomes.filter((o) => o.spec.attack?.pack === a.category && isPackAttack(o) && o.verdict.kind === 'new' && !o.verdict.passing);
    if (!failing.length) continue;
    const at = failing[0];
    const worst = a.worst.map((w) => `${w.successes}/${w.attempts} ${w.name} → ${w.output.replace(/\s+/g, ' ').slice(0, 120)}`).join('\n');
    lines.push(`::error file=${escProp(report.display(at.spec.relFile))},line=${at.spec.range.start.line + 1},title=${escProp(`PromptGate: ${failing.length} ${a.category} attack${failing.length === 1 ? '' : 's'} succeeded`)}::${escData(`${attackRateLine(a)}\n${worst}`)}`);
  }
  const s = report.summary;
  const counts = Object.entries(report.counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ');
  lines.push(`::notice title=PromptGate::${escData([`${s.passed} passed, ${s.failed} failed, ${s.errored} errored, ${s.skipped} skipped of ${s.total}; verdicts: ${counts}`, ...provenanceLines(report.outcomes)].join('\n'))}`);
  return `${lines.join('\n')}\n`;
}
