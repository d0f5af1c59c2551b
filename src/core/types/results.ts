/* The ground floor: plain data that every layer of core (and the adapters) passes around.
   Nothing here imports a behaviour module. */
import type { ResponseSource, ToolCall, Usage } from '../providers/types';
import type { Step } from './agent';

export interface AssertionOutcome {
  pass: boolean;
  /** 0..1 */
  score: number;
  reason: string;
  /** The assertion could not be decided (a judge failed or answered nonsense): the sample errors, it does not pass. */
  errored?: boolean;
  /** For judged assertions: how many times the judge was asked and how often it agreed with the majority. */
  judge?: { samples: number; agreement: number; scores: number[] };
}

export interface AssertionResult extends AssertionOutcome {
  type: string;
  weight: number;
  metric?: string;
  /** The expected value as shown in reports. */
  expected?: string;
}

export type CaseStatus = 'passed' | 'failed' | 'errored' | 'skipped';

export type { ResponseSource } from '../providers/types';

/** The outcome of one sample of one case: plain data, written to run records as is. */
export interface CaseResult {
  caseId: string;
  name: string;
  suite: string;
  /** Prompt file, relative to the project root. */
  prompt: string;
  promptVersionId: string;
  /** File (relative) and zero-based line where the case is written. */
  file: string;
  line: number;
  sample: number;
  status: CaseStatus;
  score: number;
  assertions: AssertionResult[];
  output?: string;
  toolCalls?: ToolCall[];
  /** Agent cases: every model call and tool call of the sample, in order. */
  steps?: Step[];
  finishReason?: string;
  error?: { kind: string; message: string };
  source?: ResponseSource;
  /** The model that answered and its `system_fingerprint`, as the API reported them (kept in the cache and cassettes too). */
  servedModel?: string;
  fingerprint?: string;
  /** Model latency; for cache and replay hits, the recorded one. */
  latencyMs?: number;
  usage?: Usage;
  cost?: number;
}

export interface MetricSummary {
  score: number;
  count: number;
  passed: number;
}

export interface RunSummary {
  runId: string;
  startedAt: string;
  durationMs: number;
  total: number;
  passed: number;
  failed: number;
  errored: number;
  skipped: number;
  /** Answers served from the cache or cassettes. */
  hits: number;
  /** Tokens and cost of live calls made by this run (hits cost nothing). */
  tokens: Usage;
  cost: number;
  /** Mean latency of live calls only. */
  meanLiveLatencyMs?: number;
  metrics: Record<string, MetricSummary>;
}

/** How many samples a case gets: a fixed number, or more on demand after each batch. */
export interface SamplePlan {
  initial: number;
  /** Called when every scheduled sample has finished: the new total number of samples, or undefined to stop. */
  next?(scheduled: number, tally: Tally): number | undefined;
}

/** Passing and counted (non-errored) samples of one case. */
export interface Tally {
  passed: number;
  total: number;
}
