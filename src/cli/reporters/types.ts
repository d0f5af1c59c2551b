import type { CaseResult, PromptSpec, RunSummary } from '../../core';

/** What a finished run hands to the file and stdout reporters. */
export interface RunReport {
  summary: RunSummary;
  prompts: PromptSpec[];
  results: CaseResult[];
  mode: 'live' | 'replay' | 'record';
  /** Makes a project-relative path relative to where the user stands. */
  display(relFile: string): string;
}

export function caseTitle(r: CaseResult): string {
  return `${r.prompt} › ${r.suite} › ${r.name}${r.sample > 0 ? ` #${r.sample}` : ''}`;
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The reasons a case did not pass, one line each. */
export function failureLines(r: CaseResult): string[] {
  if (r.error) return [`${r.error.kind}: ${r.error.message}`];
  return r.assertions.filter((a) => !a.pass).map((a) => `${a.type}${a.metric ? ` (${a.metric})` : ''}: ${a.reason}`);
}
