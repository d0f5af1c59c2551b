import builderFactory from 'junit-report-builder';
import { PLAIN_MARKS, renderDiff } from '../../core';
import { explain, type RunReport } from './types';

/**
 * JUnit XML: one testsuite per prompt and suite, one testcase per case. Regressions and failing
 * new cases are failures (with the diff against the baseline in the message), errors are errors,
 * cases approved while failing are skipped as known failures.
 */
export function junitXml(report: RunReport): string {
  const builder = builderFactory.newBuilder();
  const suites = new Map<string, ReturnType<typeof builder.testSuite>>();
  for (const o of report.outcomes) {
    const key = `${o.spec.prompt.relFile} › ${o.spec.suite}`;
    let suite = suites.get(key);
    if (!suite) {
      suite = builder.testSuite().name(key);
      suites.set(key, suite);
    }
    const live = o.results.filter((r) => r.source === 'live').reduce((s, r) => s + (r.latencyMs ?? 0), 0);
    const tc = suite.testCase().className(`${o.spec.prompt.relFile}.${o.spec.suite}`).name(o.spec.name).file(report.display(o.spec.relFile)).time(live / 1000);
    const v = o.verdict;
    const message = explain(o, (x) => renderDiff(x.change!.diff, PLAIN_MARKS));
    if (v.kind === 'regressed' || (v.kind === 'new' && !v.passing)) tc.failure(message, v.kind === 'regressed' ? 'regression' : 'assertion');
    else if (v.kind === 'errored') tc.error(message, o.results.find((r) => r.error)?.error?.kind ?? 'error');
    else if (v.kind === 'fail' || v.kind === 'skipped') tc.skipped();
    const sample = o.results.find((r) => r.status === 'failed') ?? o.results[0];
    if (v.kind !== 'pass' && sample?.output !== undefined) tc.standardOutput(`${message}\n\n${sample.output}`);
  }
  return builder.build();
}
