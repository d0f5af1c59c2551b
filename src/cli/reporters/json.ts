import type { RunReport } from './types';

export const JSON_REPORT_VERSION = 1;

/** The whole run as one JSON document for other programs. */
export function jsonReport(report: RunReport): string {
  return `${JSON.stringify(
    {
      version: JSON_REPORT_VERSION,
      mode: report.mode,
      summary: report.summary,
      prompts: report.prompts.map((p) => ({ file: p.relFile, name: p.name, version: p.version, versionId: p.versionId, model: p.model })),
      results: report.results,
    },
    null,
    2,
  )}\n`;
}
