import builderFactory from 'junit-report-builder';
import { caseTitle, failureLines, type RunReport } from './types';

/** JUnit XML: one testsuite per prompt and suite, one testcase per case sample. */
export function junitXml(report: RunReport): string {
  const builder = builderFactory.newBuilder();
  const suites = new Map<string, ReturnType<typeof builder.testSuite>>();
  for (const r of report.results) {
    const key = `${r.prompt} › ${r.suite}`;
    let suite = suites.get(key);
    if (!suite) {
      suite = builder.testSuite().name(key);
      suites.set(key, suite);
    }
    const tc = suite
      .testCase()
      .className(`${r.prompt}.${r.suite}`)
      .name(`${r.name}${r.sample > 0 ? ` #${r.sample}` : ''}`)
      .file(report.display(r.file))
      .time((r.source === 'live' ? r.latencyMs ?? 0 : 0) / 1000);
    const message = failureLines(r).join('\n');
    if (r.status === 'failed') tc.failure(message, 'assertion');
    else if (r.status === 'errored') tc.error(message, r.error?.kind ?? 'error');
    else if (r.status === 'skipped') tc.skipped();
    if (r.status !== 'passed' && r.output !== undefined) tc.standardOutput(`${caseTitle(r)}\n\n${r.output}`);
  }
  return builder.build();
}
