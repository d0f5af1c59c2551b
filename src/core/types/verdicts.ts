/* The ground floor: verdicts and the policies that decide them, as plain data. */
import type { Interval } from '../stats';
import type { Tally } from './results';

/** How verdicts are decided. */
export interface VerdictPolicy {
  /** Significance level per case for `regressed` and `improved`. */
  alpha: number;
  /**
   * How the cases of a run share alpha: `bh` (the default) keeps the false discovery rate at
   * alpha, which on a run where nothing changed is the chance the gate blocks at all; `holm` keeps
   * the chance of any false regression at alpha whatever else changed; `none` tests each case at
   * alpha on its own (a suite of 200 then blocks about every other unchanged run).
   */
  correction: 'none' | 'holm' | 'bh';
  /** The smallest drop in pass rate worth detecting; auto sampling stops once a drop this large is ruled out. */
  effect: number;
  /** Confidence level of the pass-rate intervals shown and used for `flaky`. */
  confidence: number;
  /** One-sided confidence with which auto sampling must rule out a drop of `effect` before it stops early (from half the maximum samples on, halfway to certainty). */
  futility: number;
}

export interface SamplingPolicy {
  min: number;
  max: number;
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

/** How the threshold of a verdict came about, for showing the arithmetic. */
export interface GateArithmetic {
  method: 'bh' | 'holm' | 'none';
  alpha: number;
  /** Cases of the run with a baseline, which share alpha. */
  family: number;
  /** The level the case's p-value was compared with. */
  threshold: number;
  /** How many cases of the family cleared their threshold in the same direction. */
  rejected: number;
}

export interface CaseVerdict {
  caseId: string;
  kind: VerdictKind;
  /** Whether the case's current samples pass (rate at or above passRate). */
  passing: boolean;
  current: Tally & { rate: number; interval: Interval; errored: number };
  baseline?: Tally & { rate: number; interval: Interval; versionId: string; stale: boolean };
  /** The case's one-sided p-values (drop, rise) over the looks it reached, before alpha is shared across cases. */
  pDrop?: number;
  pRise?: number;
  /** For a regressed, improved or flaky case: the threshold its p-value was judged by, and why that one. */
  gate?: GateArithmetic;
  /** Whether the regression or improvement met the significance level. */
  significant?: boolean;
  driver?: FlipDriver;
  note?: string;
}
