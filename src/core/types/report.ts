/* The ground floor: a finished run as reporters, the editor and the panel see it. */
import type { CaseResult, RunSummary } from './results';
import type { Interval } from '../stats';
import type { CaseSpec, PromptSpec } from './cases';
import type { Samples } from '../schema';
import type { CaseVerdict, VerdictKind } from './verdicts';

export interface DiffSegment {
  kind: 'same' | 'added' | 'removed';
  text: string;
}

export interface JsonChange {
  /** `$.items[0].sku` style path. */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

export type OutputDiff = { kind: 'same' } | { kind: 'text'; segments: DiffSegment[] } | { kind: 'json'; changes: JsonChange[] };

/** One case of a finished run, with what reporters need to explain its verdict. */
export interface CaseOutcome {
  spec: CaseSpec;
  results: CaseResult[];
  verdict: CaseVerdict;
  /** Baseline output against current output, for cases with a baseline whose outputs differ. */
  change?: { before: string; after: string; diff: OutputDiff };
  /** Mean score of each judged assertion, in the baseline and now. */
  judgeScores: { assertion: string; index: number; before?: number; after?: number; /** Why the judge gave no score this run (it answered no JSON, say): the sample is errored, not failed. */ error?: string }[];
  /** The lowest judge agreement among this case's judged answers (when a judge was asked more than once). */
  judgeAgreement?: number;
  /** Samples answered from the response cache: their verdict says nothing about the model as it is today. */
  cached: number;
  /** The model that answers is not the one that answered the baseline (same name asked, another model or backend reported). */
  drift?: ModelDrift;
  /** The baseline was approved with another model than this run's (a model swap): its model and first answer. */
  swap?: { model: string; output: string; passed: number; total: number };
}

/** What the API reported as answering, in the baseline and now, when they differ. */
export interface ModelDrift {
  /** `model`: another model (a new snapshot behind the alias); `fingerprint`: the same model, another backend configuration. */
  kind: 'model' | 'fingerprint';
  before: string[];
  after: string[];
}

/** Attack success in one category (pack) of adversarial cases, now and in the baseline. */
export interface AttackCategory {
  category: string;
  cases: number;
  /** Answered samples (errored ones are not attempts). */
  attempts: number;
  /** Samples that failed a detector or an assertion: the attack worked. */
  successes: number;
  rate: number;
  interval: Interval;
  baseline?: { attempts: number; successes: number; rate: number };
  /** One-sided p-value of a rise in the success rate against the baseline (Fisher's exact test). */
  pRise?: number;
  /** The rise is significant at `alpha`. */
  rose: boolean;
  /** Cases of this category whose verdict is a regression. */
  regressed: number;
  /** The cases with the highest success rate, with an output that shows it. */
  worst: { caseId: string; name: string; successes: number; attempts: number; output: string }[];
}

export interface CostEstimate {
  usd: number;
  calls: number;
  /** Models with no price: their calls are counted but not priced. */
  unpriced: string[];
}

/** `failed`: a verdict blocks (exit 1); `stopped`: the run ended early, so the gate was not decided. */
export type Gate = 'passed' | 'failed' | 'stopped';

/** A named metric of a suite (each case's score, its samples averaged, summed over the cases), or one derived from them. */
export interface MetricValue {
  name: string;
  value?: number;
  /** Why a derived metric has no value (an unknown name, a result that is not a number…). */
  error?: string;
  derived: boolean;
}

/** A finished run: what every reporter, the editor and the panel show. */
export interface RunReport {
  summary: RunSummary;
  /** Live judge calls and their cost, when model-graded assertions ran. */
  judge?: { calls: number; tokens: number; usd: number };
  prompts: PromptSpec[];
  /** Each case that ran, with its samples, verdict and change against the baseline. */
  outcomes: CaseOutcome[];
  /** Each prompt × suite that ran, with its outcomes and the approved cases that are gone. */
  suites: { prompt: string; suite: string; outcomes: CaseOutcome[]; removed: CaseVerdict[]; /** With derived metrics: the named sums and the derived values. */ metrics?: MetricValue[] }[];
  /** Attack success per category, for the adversarial cases that ran. */
  attacks: AttackCategory[];
  /** Approved cases that no longer exist (only for suites that ran whole). */
  removed: CaseVerdict[];
  counts: Record<VerdictKind, number>;
  gate: Gate;
  /** Why the run ended before every case ran: Ctrl-C, the budget, or a refused key or no quota (`fatal`). */
  stopped?: { kind: 'fatal' | 'interrupted' | 'budget'; reason: string };
  mode: RunMode;
  /**
   * Passing samples held without their answer (output, tool calls, steps, usage, reasons) to bound a
   * large run's memory: past the first `FULL_RESULTS` samples, only what verdicts and summaries need
   * stays in memory; the run record (`recordFile`) holds every sample whole.
   */
  trimmed?: number;
  /** The run record this report was judged from. */
  recordFile?: string;
}

/** The settings a run uses, each decided once. */
export interface RunSettings {
  samples?: Samples;
  concurrency: number;
  baseURL?: string;
  model?: string;
}

/** Where answers come from: the live provider, recorded cassettes, or live while recording them. */
export type RunMode = 'live' | 'replay' | 'record';

/** Slice `index` (1-based) of `count`: `--shard 2/4`. */
export interface Shard {
  index: number;
  count: number;
}

/** What a shard's run record says of its slicing, so a merge can check that the shards fit together. */
export interface ShardInfo extends Shard {
  /** Cases selected before slicing (all shards). */
  cases: number;
  /** Content hash of the whole assignment: shards planned from other cases or weights differ here. */
  plan: string;
}
