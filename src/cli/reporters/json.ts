import { caseCost } from '../../core';
import type { RunReport } from './types';

export const JSON_REPORT_VERSION = 2;

/** The whole run as one JSON document for other programs. */
export function jsonReport(report: RunReport): string {
  return `${JSON.stringify(
    {
      version: JSON_REPORT_VERSION,
      mode: report.mode,
      gate: report.gate,
      ...(report.stopped ? { stopped: report.stopped.reason } : {}),
      summary: report.summary,
      judge: report.judge,
      verdicts: report.counts,
      prompts: report.prompts.map((p) => ({ file: p.relFile, name: p.name, version: p.version, versionId: p.versionId, model: p.model })),
      cases: report.outcomes.map((o) => ({ id: o.spec.id, name: o.spec.name, suite: o.spec.suite, attack: o.spec.attack, prompt: o.spec.prompt.relFile, file: o.spec.relFile, line: o.spec.range.start.line + 1, verdict: o.verdict, cost: caseCost(o.results), judgeScores: o.judgeScores, judgeAgreement: o.judgeAgreement, cached: o.cached, drift: o.drift, unsupported: o.spec.skip, change: o.change && { before: o.change.before, after: o.change.after, diff: o.change.diff } })),
      attacks: report.attacks,
      metrics: report.suites.filter((s) => s.metrics?.length).map((s) => ({ prompt: s.prompt, suite: s.suite, metrics: s.metrics })),
      removed: report.removed,
      results: report.outcomes.flatMap((o) => o.results),
    },
    null,
    2,
  )}\n`;
}
