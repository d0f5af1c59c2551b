import { z } from 'zod';
import type { ValidateFunction } from 'ajv';
import { compileSchema, schemaErrors } from './json';
import { deepEqual } from './text';
import { define, outcome } from './types';
import type { ToolCall } from '../providers/types';
import type { AssertionContext } from '../types/assertions';
import { allToolCalls } from './trajectory';

const schemaCache = new WeakMap<object, ValidateFunction>();
function validatorFor(parameters: Record<string, unknown>): ValidateFunction {
  let v = schemaCache.get(parameters);
  if (!v) {
    v = compileSchema(parameters);
    schemaCache.set(parameters, v);
  }
  return v;
}

/** True when every member of `expected` appears, equal, in `actual` (objects compared as subsets). */
function subsetMatch(actual: unknown, expected: unknown): boolean {
  if (expected && typeof expected === 'object' && !Array.isArray(expected)) {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(expected).every(([k, v]) => subsetMatch((actual as Record<string, unknown>)[k], v));
  }
  return deepEqual(actual, expected);
}

/** Whether some call has arguments matching `schema`; the first mismatch's errors otherwise. */
function argumentsMatch(calls: readonly ToolCall[], schema: Record<string, unknown>): { ok: boolean; why: string } {
  const validate = validatorFor(schema);
  let why = '';
  for (const c of calls) {
    let args: unknown;
    try {
      args = JSON.parse(c.arguments || '{}');
    } catch {
      why ||= `arguments ${c.arguments} are not valid JSON`;
      continue;
    }
    if (validate(args)) return { ok: true, why: '' };
    why ||= `arguments ${c.arguments}: ${schemaErrors(validate)}`;
  }
  return { ok: false, why };
}

/** Why a call is not a valid call of a declared tool, or undefined when it is. */
function invalidCall(call: ToolCall, tools: AssertionContext['tools']): string | undefined {
  const tool = tools.find((t) => t.name === call.name);
  if (!tool) return `the model called '${call.name}', which is not a declared tool`;
  let args: unknown;
  try {
    args = JSON.parse(call.arguments || '{}');
  } catch {
    return `arguments of '${call.name}' are not valid JSON`;
  }
  if (!tool.parameters) return undefined;
  const validate = validatorFor(tool.parameters);
  return validate(args) ? undefined : `arguments of '${call.name}' do not match its schema: ${schemaErrors(validate)}`;
}

export const toolAssertions = [
  define<undefined>({
    id: 'is-valid-openai-tools-call',
    kind: 'pure',
    description: "the model called at least one tool, each a declared tool with JSON arguments matching its parameters' schema",
    value: z.undefined(),
    evaluate: ({ context }) => {
      const calls = allToolCalls(context);
      if (!calls.length) return outcome(false, 'the model made no tool call');
      for (const call of calls) {
        const why = invalidCall(call, context.tools);
        if (why) return outcome(false, why);
      }
      return outcome(true, `${calls.length} valid tool call${calls.length > 1 ? 's' : ''}`);
    },
  }),
  define<undefined>({
    id: 'is-valid-openai-function-call',
    kind: 'pure',
    description: "the model answered with a function call (the legacy functions API) to a declared function, with JSON arguments matching its parameters' schema",
    value: z.undefined(),
    evaluate: ({ context }) => {
      const call = context.response.toolCalls.find((c) => c.legacy);
      if (!call) return outcome(false, context.response.toolCalls.length ? 'the model called tools, not a function (the legacy functions API)' : 'the model made no function call');
      const why = invalidCall(call, context.tools);
      return why ? outcome(false, why) : outcome(true, `a valid call of '${call.name}'`);
    },
  }),
  define<{ name: string; arguments?: Record<string, unknown>; schema?: Record<string, unknown> }>({
    id: 'tool-call',
    kind: 'pure',
    description: 'the model called the named tool (in an agent case, at any step), with arguments that include the given ones and match `schema` when given',
    value: z.object({ name: z.string().min(1), arguments: z.record(z.string(), z.unknown()).optional(), schema: z.record(z.string(), z.unknown()).optional() }).strict(),
    compile: (value) => {
      if (value.schema) compileSchema(value.schema);
      return undefined;
    },
    evaluate: ({ context, value }) => {
      const all = allToolCalls(context);
      const calls = all.filter((c) => c.name === value.name);
      if (!calls.length) {
        const made = all.map((c) => c.name);
        return outcome(false, `no call to '${value.name}'${made.length ? ` (called: ${made.join(', ')})` : ' (no tool calls)'}`);
      }
      let matching = calls;
      if (value.arguments) {
        matching = calls.filter((call) => {
          try {
            return subsetMatch(JSON.parse(call.arguments || '{}'), value.arguments);
          } catch {
            return false;
          }
        });
        if (!matching.length) return outcome(false, `called '${value.name}' with ${calls[0].arguments}, expected arguments including ${JSON.stringify(value.arguments)}`);
      }
      if (value.schema) {
        const m = argumentsMatch(matching, value.schema);
        if (!m.ok) return outcome(false, `called '${value.name}', but not with arguments matching the schema: ${m.why}`);
      }
      return outcome(true, `called '${value.name}'${value.arguments || value.schema ? ' with the expected arguments' : ''}`);
    },
  }),
];
