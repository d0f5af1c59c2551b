/* The ground floor of agent cases: mocked tools, scripted turns, and the steps a sample records. */
import type { ResponseSource, ToolCall, Usage } from '../providers/types';

/** What a mocked tool answers to one call: a result, or an injected failure. */
export interface MockAnswer {
  result?: unknown;
  /** `error`: the tool reports an error; `timeout`: it did not answer in time; `malformed`: its answer is not valid JSON. */
  fail?: 'error' | 'timeout' | 'malformed';
  message?: string;
}

/** A mocked tool, in the order it is consulted: a script, answers by arguments, a sequence by call, then the fixed answer. */
export interface ToolMock extends MockAnswer {
  /** A javascript function body (or expression) over `args` and `call` (0 for the first call); runs isolated, as javascript assertions do. */
  javascript?: string;
  when?: (MockAnswer & { args: Record<string, unknown> })[];
  sequence?: MockAnswer[];
}

export const DEFAULT_MAX_STEPS = 10;

/** One step of an agent sample: a model call, or a tool call and what the mock answered. */
export type Step =
  | {
      kind: 'model';
      /** Which user turn (0: the prompt's own messages). */
      turn: number;
      output: string;
      toolCalls: ToolCall[];
      finishReason?: string;
      latencyMs: number;
      usage?: Usage;
      source: ResponseSource;
      /** Times the call was tried again before this answer (live calls only). */
      retries?: number;
    }
  | {
      kind: 'tool';
      turn: number;
      name: string;
      /** The arguments as the model wrote them (possibly invalid JSON). */
      arguments: string;
      /** What the tool message said back to the model. */
      result?: string;
      /** An injected failure (`timeout`…) the mock answered with. */
      injected?: MockAnswer['fail'];
      /** Why the step failed: invalid JSON arguments, no mock for the tool, a mock script that threw. */
      error?: string;
    };
