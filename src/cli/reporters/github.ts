import { caseTitle, failureLines, type RunReport } from './types';

// Workflow commands: data escapes %, CR, LF; properties also , and :.
const escData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escProp = (s: string) => escData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** GitHub Actions annotations at each failing case's file and line, then a notice with the totals. */
export function githubAnnotations(report: RunReport): string {
  const lines: string[] = [];
  for (const r of report.results) {
    if (r.status !== 'failed' && r.status !== 'errored') continue;
    const message = failureLines(r).join('\n');
    lines.push(`::error file=${escProp(report.display(r.file))},line=${r.line + 1},title=${escProp(`PromptGate ${r.status}: ${caseTitle(r)}`)}::${escData(message)}`);
  }
  const s = report.summary;
  lines.push(`::notice title=PromptGate::${escData(`${s.passed} passed, ${s.failed} failed, ${s.errored} errored, ${s.skipped} skipped of ${s.total}`)}`);
  return `${lines.join('\n')}\n`;
}
