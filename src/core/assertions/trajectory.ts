import { z } from 'zod';
import { define, outcome } from './types';
import { ask, graded, tag } from './model';
import type { ToolCall } from '../providers/types';
import type { AssertionContext } from '../types/assertions';

/**
 * Trajectory checks of agent cases: which tools the agent called, in what order, with which
 * arguments, in how many steps. On a one-call case the trajectory is that answer's tool calls.
 */

/** Every tool call of the sample: across an agent's steps, else the answer's own. */
export function allToolCalls(context: AssertionContext): ToolCall[] {
  return context.steps ? context.steps.flatMap((s) => (s.kind === 'model' ? s.toolCalls : [])) : context.response.toolCalls;
}

const names = (calls: readonly ToolCall[]) => calls.map((c) => c.name);
const listed = (calls: readonly string[]) => (calls.length ? calls.join(' → ') : 'no tool');

type Order = 'in-order' | 'exact' | 'any-order' | 'subset';
type Sequence = { tools: string[]; order: Order };

/** Whether `want` appears in `got` in this order, other calls allowed between. */
function inOrder(got: readonly string[], want: readonly string[]): boolean {
  let i = 0;
  for (const g of got) if (g === want[i]) i++;
  return i === want.length;
}

export const trajectoryAssertions = [
  define<Sequence, Sequence>({
    id: 'tool-sequence',
    kind: 'pure',
    description:
      'the tools the agent called: `{tools, order}` with order `in-order` (these, in this order, others allowed between; the default, and what a bare list means), `exact` (exactly these calls in this order), `any-order` (each of these, in any order) or `subset` (no tool but these)',
    value: z.union([
      z.array(z.string().min(1)).min(1).transform((tools): Sequence => ({ tools, order: 'in-order' })),
      z.object({ tools: z.array(z.string().min(1)), order: z.enum(['in-order', 'exact', 'any-order', 'subset']).default('in-order') }).strict(),
    ]) as unknown as z.ZodType<Sequence>,
    compile: (v) => v,
    evaluate: ({ compiled: { tools, order }, context }) => {
      const got = names(allToolCalls(context));
      const pass =
        order === 'exact' ? got.length === tools.length && got.every((g, i) => g === tools[i]) : order === 'any-order' ? tools.every((t) => got.includes(t)) : order === 'subset' ? got.every((g) => tools.includes(g)) : inOrder(got, tools);
      const wanted = order === 'subset' ? `only ${tools.join(', ')}` : order === 'any-order' ? `each of ${tools.join(', ')}` : `${order === 'exact' ? 'exactly ' : ''}${listed(tools)}`;
      return outcome(pass, `called ${listed(got)}; wanted ${wanted}`);
    },
  }),
  define<{ maxModelCalls?: number; maxToolCalls?: number; maxStepLatencyMs?: number; maxStepTokens?: number }>({
    id: 'trajectory-limits',
    kind: 'pure',
    description: 'the agent stayed within `{maxModelCalls, maxToolCalls, maxStepLatencyMs, maxStepTokens}` (each optional; latency and tokens per model call)',
    value: z
      .object({ maxModelCalls: z.number().int().min(1).optional(), maxToolCalls: z.number().int().min(0).optional(), maxStepLatencyMs: z.number().min(0).optional(), maxStepTokens: z.number().int().min(1).optional() })
      .strict()
      .refine((v) => Object.keys(v).length > 0, 'name at least one limit'),
    evaluate: ({ value, context }) => {
      const steps = context.steps ?? [{ kind: 'model' as const, turn: 0, output: context.response.output, toolCalls: context.response.toolCalls, latencyMs: context.latencyMs, usage: context.response.usage, source: 'live' as const }];
      const model = steps.filter((s) => s.kind === 'model');
      const tools = steps.filter((s) => s.kind === 'tool').length;
      const over: string[] = [];
      if (value.maxModelCalls !== undefined && model.length > value.maxModelCalls) over.push(`${model.length} model calls (at most ${value.maxModelCalls})`);
      if (value.maxToolCalls !== undefined && tools > value.maxToolCalls) over.push(`${tools} tool calls (at most ${value.maxToolCalls})`);
      const slowest = Math.max(0, ...model.map((s) => (s.kind === 'model' ? s.latencyMs : 0)));
      if (value.maxStepLatencyMs !== undefined && slowest > value.maxStepLatencyMs) over.push(`a model call took ${Math.round(slowest)} ms (at most ${value.maxStepLatencyMs})`);
      const largest = Math.max(0, ...model.map((s) => (s.kind === 'model' ? (s.usage?.totalTokens ?? 0) : 0)));
      if (value.maxStepTokens !== undefined && largest > value.maxStepTokens) over.push(`a model call used ${largest} tokens (at most ${value.maxStepTokens})`);
      return over.length ? outcome(false, over.join('; ')) : outcome(true, `${model.length} model calls, ${tools} tool calls, slowest ${Math.round(slowest)} ms, largest ${largest} tokens`);
    },
  }),
  define<string>({
    id: 'trajectory-rubric',
    kind: 'model',
    description: "a judge grades the agent's whole transcript (every model answer, tool call and tool result, in order) against the rubric in `value`; `threshold` on its score",
    value: z.string().min(1),
    threshold: 'optional',
    evaluateModel: ({ output, value, context, judge, threshold }) => {
      const lines = (context.steps ?? []).map((s) => (s.kind === 'model' ? `assistant: ${s.toolCalls.length ? s.toolCalls.map((c) => `calls ${c.name}(${c.arguments})`).join('; ') : s.output}` : `tool ${s.name}: ${s.error ?? s.result ?? ''}`));
      const transcript = lines.length ? lines.join('\n') : `assistant: ${output}`;
      return graded(judge, ask(`Grade the agent's whole transcript against the rubric: what it called, with which arguments, and how it answered.\n\n${tag('rubric', value)}\n\n${tag('question', context.question)}\n\n${tag('transcript', transcript)}`), threshold);
    },
  }),
];
