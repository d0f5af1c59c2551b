/* The ground floor: what an assertion is (its definition, context and prepared form), as types. */
import type { z } from 'zod';
import type { ProviderResponse } from '../providers/types';
import type { AssertionOutcome } from './results';
import type { Step } from './agent';

/** What an assertion may look at besides the output text. */
export interface AssertionContext {
  vars: Record<string, unknown>;
  response: ProviderResponse;
  /** Model latency of the call that produced the output (the recorded one for cache hits). */
  latencyMs: number;
  /** Estimated USD cost of that call, when the model has a price. */
  cost?: number;
  cached: boolean;
  /** The prompt's declared tools, for tool-call validation. */
  tools: { name: string; parameters?: Record<string, unknown> }[];
  /** The last user message sent to the model (what the output answers). */
  question: string;
  /** The system and developer messages sent, joined (adversarial cases: with the canary sentinel). */
  system?: string;
  /** Agent cases: the steps so far (of the turn, for a turn's assertions), model and tool calls in order. */
  steps?: Step[];
}

/** A judge's answer to one grading question. */
export interface JudgeAnswer {
  pass: boolean;
  score: number;
  reason: string;
}

/** A grading question: PromptGate's grader instructions and the question, or a rubric prompt's own messages. */
export type JudgeQuestion = { system: string; user: string } | { messages: { role: 'system' | 'user' | 'assistant'; content: string }[] };

/** What model-graded assertions may call: a judge model (asked k times, cached) and embeddings. */
export interface JudgeContext {
  grade(question: JudgeQuestion): Promise<JudgeAnswer & { samples: number; agreement: number; scores: number[] }>;
  embed(texts: string[]): Promise<number[][]>;
}

export interface EvaluateArgs<V, C> {
  /** The output, or what a transform made of it (anything but a string as its JSON). */
  output: string;
  /** A transform returned something other than a string: `output` is its JSON, and a script sees the value itself, as in promptfoo. */
  structured?: boolean;
  value: V;
  threshold?: number;
  compiled: C;
  context: AssertionContext;
}

/**
 * One assertion type. `compile` runs once at load time (invalid regexes, schemas and
 * scripts are located errors there, not run-time failures); `evaluate` must be deterministic
 * for `kind: 'pure'`.
 */
export interface AssertionDefinition<V = unknown, C = unknown> {
  id: string;
  kind: 'pure' | 'model';
  description: string;
  value: z.ZodType<V>;
  /** Whether `threshold` means something for this type. */
  threshold?: 'required' | 'optional';
  compile?(value: V): C;
  /** Pure assertions decide synchronously. */
  evaluate?(args: EvaluateArgs<V, C>): AssertionOutcome;
  /** Model-graded assertions ask a judge. */
  evaluateModel?(args: EvaluateArgs<V, C> & { judge: JudgeContext }): Promise<AssertionOutcome>;
}

/** An output as a transform leaves it: text, or the JSON of a structured value. */
export interface Transformed {
  text: string;
  structured: boolean;
}

/** A validated, compiled assertion ready to evaluate. */
export interface PreparedAssertion {
  /** As written, e.g. `not-contains`. */
  type: string;
  definition: AssertionDefinition;
  negate: boolean;
  value: unknown;
  threshold?: number;
  weight: number;
  metric?: string;
  compiled: unknown;
  /** Applied to the output before this assertion checks it (a chain, each step on the one before's result). */
  transform?: (output: Transformed, context: AssertionContext) => Transformed;
  /** The transform as written (part of the case's fingerprint). */
  transformSource?: string | string[];
  /** Model-graded only: judge model and how many times to ask. */
  judgeModel?: string;
  judgeSamples?: number;
}
