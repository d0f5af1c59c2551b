import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { caseCost } from '../../core';
import type { RunReport } from './types';

export const JSON_REPORT_VERSION = 2;

/** The whole run as one JSON document for other programs. */
export function jsonReport(report: RunReport): string {
  return `${JSON.stringify({ ...document(report), results: report.outcomes.flatMap((o) => o.results) }, null, 2)}\n`;
}

/**
 * The JSON report in pieces. A run too large to hold every answer in memory (`trimmed`) takes
 * `results` from its run record, one sample at a time (in the order they finished), so the report
 * has every answer and never exists as one string.
 */
export async function* jsonReportChunks(report: RunReport): AsyncGenerator<string> {
  if (!report.trimmed || !report.recordFile) {
    yield jsonReport(report);
    return;
  }
  const head = JSON.stringify(document(report), null, 2);
  let chunk = `${head.slice(0, head.lastIndexOf('\n}'))},\n  "results": [`;
  let first = true;
  for await (const line of createInterface({ input: createReadStream(report.recordFile), crlfDelay: Infinity })) {
    if (!line.startsWith('{"type":"case",')) continue;
    const { type: _type, ...result } = JSON.parse(line) as { type: string };
    chunk += `${first ? '' : ','}\n    ${JSON.stringify(result)}`;
    first = false;
    if (chunk.length > 1 << 20) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}\n  ]\n}\n`;
}

function document(report: RunReport) {
  return {
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
  };
}
