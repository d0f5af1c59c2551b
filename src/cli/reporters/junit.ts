import { attackRateLine, explain, PLAIN_MARKS, renderDiff, vendor } from '../../core';
import type { RunReport } from './types';

/**
 * JUnit XML: one testsuite per prompt and suite, one testcase per case. Regressions and failing
 * new cases are failures (with the diff against the baseline in the message), errors are errors,
 * cases approved while failing are skipped as known failures.
 */
export function junitXml(report: RunReport): string {
  const builder = vendor.junit().newBuilder();
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
    if (o.spec.skip) tc.standardOutput(`skipped, not run by PromptGate: ${o.spec.skip.reason} (${o.spec.skip.where})`);
    const sample = o.results.find((r) => r.status === 'failed') ?? o.results[0];
    if (v.kind !== 'pass' && sample?.output !== undefined) tc.standardOutput(`${message}\n\n${sample.output}`);
  }
  // Attack success per category: a failure when it rose significantly against the baseline.
  if (report.attacks.length) {
    const suite = builder.testSuite().name('PromptGate attack success by category');
    for (const a of report.attacks) {
      const tc = suite.testCase().className('promptgate.attacks').name(`${a.category} attack success rate`);
      const worst = a.worst.map((w) => `${w.successes}/${w.attempts} ${w.name}: ${w.output}`).join('\n');
      if (a.rose) tc.failure(`${a.category}: ${attackRateLine(a)}`, 'attack-success-rose');
      tc.standardOutput(`${attackRateLine(a)}${a.regressed ? `; ${a.regressed} regressed` : ''}${worst ? `\n\nworst:\n${worst}` : ''}`);
    }
  }
  return builder.build();
}
