/* The ground floor: prompts, suites and cases as loaded, plain data (a case's request is rendered at load time). */
import type { ToolMock } from './agent';
import type { Normalizer, PromptFileData, ProviderOptions, Samples, ToolData, VariableData } from '../schema';
import type { ProviderRequest } from '../providers/types';
import type { AssertionDefinition, PreparedAssertion } from './assertions';
import type { Range } from '../diagnostics';

/**
 * What a case's assertions are, in order, without preparing them: a case held as its line of a
 * case file (formats/line-case.ts) answers from a list shared by its alike cases, others from
 * their assertions. For the questions asked of every case of a run (is it judged? does it run python?).
 */
export function caseDefinitions(spec: CaseSpec): readonly AssertionDefinition[] {
  return (spec as { definitions?: readonly AssertionDefinition[] }).definitions ?? spec.assertions.map((a) => a.definition);
}

/** The model a case's request names, without building a case held as its line (see caseDefinitions). */
export function caseModel(spec: CaseSpec): string {
  return (spec as { model?: string }).model ?? spec.request.model;
}

/** A case passes when at least this share of its samples pass, unless the suite or case says otherwise. */
export const DEFAULT_PASS_RATE = 0.5;

/** A loaded prompt template: everything that determines what is sent to the model. */
export interface PromptSpec {
  file: string;
  /** Path relative to the project root, with `/` separators. */
  relFile: string;
  name: string;
  description?: string;
  version?: string;
  /** Content hash of everything that changes the output (messages, model, parameters, tools, response format). */
  versionId: string;
  model: string;
  provider: ProviderOptions;
  variables?: Record<string, VariableData>;
  tools: ToolData[];
  range: Range;
  /** The prompt as written (message templates, parameters, response format), for export to other formats. */
  template: {
    messages: { role: 'system' | 'developer' | 'user' | 'assistant'; content: string }[];
    parameters: PromptFileData['modelParameters'];
    responseFormat?: PromptFileData['responseFormat'];
    jsonSchema?: Record<string, unknown>;
    toolChoice?: PromptFileData['toolChoice'];
  };
}

export type SuiteKind = 'golden' | 'adversarial';

/** One runnable case: its request is fully rendered at load time, so template errors surface before any call. */
export interface CaseSpec {
  /** Stable: derived from file, suite and case name, never from position. */
  id: string;
  name: string;
  suite: string;
  suiteKind: SuiteKind;
  description?: string;
  tags: string[];
  prompt: PromptSpec;
  /** Where the case is written (the prompt file or a suite file). */
  file: string;
  relFile: string;
  range: Range;
  vars: Record<string, unknown>;
  request: ProviderRequest;
  assertions: PreparedAssertion[];
  threshold?: number;
  /** Samples asked for by the case or its suite; the run may override it. */
  samples?: Samples;
  /** Share of samples that must pass for the case to pass. */
  passRate: number;
  /** Applied to outputs before comparing them with the baseline's. */
  normalize: Normalizer[];
  /** Cases of adversarial suites: the pack (`custom` for the user's own cases) and attack. */
  attack?: { pack: string; id: string; source?: string };
  /**
   * The case uses something PromptGate does not run (a third-party file's provider, assertion or
   * option): it is reported as skipped with the reason and where that is written, never called.
   */
  skip?: { reason: string; where: string; /** Only a model is missing: `--model` runs it. */ needsModel?: boolean };
  /** An agent case: the model's tool calls are answered by mocks, and it is called again, turn after turn. */
  agent?: AgentSpec;
}

export interface SuiteSpec {
  name: string;
  kind: SuiteKind;
  file: string;
  relFile: string;
  range: Range;
  prompt: PromptSpec;
  normalize: Normalizer[];
  cases: CaseSpec[];
  /** Metrics computed from the suite's named metric sums after a run (promptfoo's derivedMetrics). */
  derivedMetrics?: DerivedMetric[];
}

export interface DerivedMetric {
  name: string;
  /** A mathjs expression over the named metrics' sums and earlier derived metrics. */
  expression: string;
  /** Where it is written, `file:line:column`. */
  where: string;
}

/** How an agent case runs: mocked tools answer the model's calls until it answers without one. */
export interface AgentSpec {
  mocks: Record<string, ToolMock>;
  /** Model calls allowed per turn (default 10); reaching it is a failure with the reason. */
  maxSteps: number;
  /** User turns after the first (the prompt's own messages are the first), each with its assertions. */
  turns: { message: string; assertions: PreparedAssertion[] }[];
  /** Assertions on the first turn's answer (a promptfoo conversation's first test); the case's own check the last. */
  opening?: PreparedAssertion[];
}

