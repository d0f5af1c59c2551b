import type { PromptHistory, RunReport as SessionReport } from '../../core';

/** What a finished run hands to the file and stdout reporters: core's report, with paths as the user sees them. */
export interface RunReport extends SessionReport {
  /** Makes a project-relative path relative to where the user stands. */
  display(relFile: string): string;
  /** Each prompt's recorded runs, for the HTML report's history charts. */
  history?: PromptHistory[];
}
