/* The ground floor: verdicts and the policies that decide them, as plain data. */
import type { Interval } from '../stats';
import type { Tally } from './results';

/** How verdicts are decided. */
export interface VerdictPolicy {
  /** Significance level per case for `regressed` and `improved`. */
  alpha: number;
  /** Correction across the cases of a run. */
  correction: 'none' | 'holm' | 'bh';
  /** The smallest drop in pass rate worth detecting; auto sampling stops once a drop this large is ruled out. */
  effect: number;
  /** Confidence level of the pass-rate intervals shown and used for `flaky`. */
  confidence: number;
  /** One-sided confidence with which auto sampling must rule out a drop of `effect` before it stops early. */
  futility: number;
}

export interface SamplingPolicy {
  min: number;
  max: number;
  /**
   * Without a baseline (the run that may become one), samples that must agree before sampling
   * stops: a baseline of 5 agreeing samples is too weak to show a later drop as significant.
   */
  baselineMin: number;
}

export type VerdictKind = 'pass' | 'fail' | 'regressed' | 'improved' | 'flaky' | 'new' | 'removed' | 'errored' | 'skipped';

/** One sample's outcome as verdicts see it (from a run or from a baseline). */
export interface SampleOutcome {
  pass: boolean;
  errored?: boolean;
  assertions: { type: string; pass: boolean }[];
}

export interface FlipDriver {
  /** The assertion as written, e.g. `icontains`, and its position in the case. */
  assertion: string;
  index: number;
  kind: 'deterministic' | 'judge';
  /** Pass rates of that assertion before and now. */
  before: number;
  after: number;
}

export interface CaseVerdict {
  caseId: string;
  kind: VerdictKind;
  /** Whether the case's current samples pass (rate at or above passRate). */
  passing: boolean;
  current: Tally & { rate: number; interval: Interval; errored: number };
  baseline?: Tally & { rate: number; interval: Interval; versionId: string; stale: boolean };
  /** One-sided p-values (drop, rise), after any correction across cases. */
  pDrop?: number;
  pRise?: number;
  /** Whether the regression or improvement met the significance level. */
  significant?: boolean;
  driver?: FlipDriver;
  note?: string;
}
