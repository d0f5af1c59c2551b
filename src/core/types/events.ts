/* The ground floor: the events a run yields (the runner's) and a session yields (the runner's, then verdicts, suites and the report). */
import type { AssertionResult, CaseResult, ResponseSource, RunSummary } from './results';
import type { AttackCategory, CaseOutcome, CostEstimate, RunReport, RunSettings } from './report';
import type { Diagnostic } from '../diagnostics';
import type { CaseSpec } from './cases';
import type { CaseVerdict } from './verdicts';

/** What the runner yields as a run goes: each sample as it starts, answers and finishes, then the summary. */
export type RunEvent =
  | { type: 'run-started'; runId: string; startedAt: string; total: number; cases: number }
  | { type: 'case-started'; caseId: string; sample: number }
  | { type: 'samples-added'; caseId: string; added: number }
  | { type: 'case-output'; caseId: string; sample: number; output: string; source: ResponseSource; latencyMs: number }
  | { type: 'assertions'; caseId: string; sample: number; results: AssertionResult[] }
  | { type: 'case-finished'; result: CaseResult; spec: CaseSpec }
  | { type: 'warning'; message: string }
  /** The run stopped early because no further call could succeed (a refused key, no quota left). */
  | { type: 'run-stopped'; reason: string }
  | { type: 'run-finished'; summary: RunSummary };

/** Why nothing ran. */
export type NotRunReason =
  | { kind: 'baselines'; diagnostics: Diagnostic[] }
  | { kind: 'provider'; message: string }
  | { kind: 'over-budget'; estimate: CostEstimate; budget: number };

/** What a session says as it goes: the runner's events, then each case's verdict, each suite, the attacks and the report. */
export type SessionEvent =
  | { type: 'planned'; runId: string; cases: readonly CaseSpec[]; settings: RunSettings; estimate?: CostEstimate; recordFile: string }
  | { type: 'not-run'; reason: NotRunReason }
  | Exclude<RunEvent, { type: 'run-finished' }>
  | { type: 'budget-reached'; spentUsd: number; budget: number }
  | { type: 'case-verdict'; outcome: CaseOutcome }
  | { type: 'suite-finished'; prompt: string; suite: string; outcomes: CaseOutcome[]; removed: CaseVerdict[] }
  | { type: 'attack-report'; attacks: AttackCategory[] }
  | { type: 'run-finished'; summary: RunSummary; report: RunReport };
