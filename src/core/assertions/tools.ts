import { z } from 'zod';
import type { ValidateFunction } from 'ajv';
import { compileSchema, schemaErrors } from './json';
import { deepEqual } from './text';
import { define, outcome } from './types';

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

export const toolAssertions = [
  define<undefined>({
    id: 'is-valid-openai-tools-call',
    kind: 'pure',
    description: "the model called at least one tool, each a declared tool with JSON arguments matching its parameters' schema",
    value: z.undefined(),
    evaluate: ({ context }) => {
      const calls = context.response.toolCalls;
      if (!calls.length) return outcome(false, 'the model made no tool call');
      for (const call of calls) {
        const tool = context.tools.find((t) => t.name === call.name);
        if (!tool) return outcome(false, `the model called '${call.name}', which is not a declared tool`);
        let args: unknown;
        try {
          args = JSON.parse(call.arguments || '{}');
        } catch {
          return outcome(false, `arguments of '${call.name}' are not valid JSON`);
        }
        if (tool.parameters) {
          const validate = validatorFor(tool.parameters);
          if (!validate(args)) return outcome(false, `arguments of '${call.name}' do not match its schema: ${schemaErrors(validate)}`);
        }
      }
      return outcome(true, `${calls.length} valid tool call${calls.length > 1 ? 's' : ''}`);
    },
  }),
  define<{ name: string; arguments?: Record<string, unknown> }>({
    id: 'tool-call',
    kind: 'pure',
    description: 'the model called the named tool, with arguments that include the given ones',
    value: z.object({ name: z.string().min(1), arguments: z.record(z.string(), z.unknown()).optional() }).strict(),
    evaluate: ({ context, value }) => {
      const calls = context.response.toolCalls.filter((c) => c.name === value.name);
      if (!calls.length) {
        const made = context.response.toolCalls.map((c) => c.name);
        return outcome(false, `no call to '${value.name}'${made.length ? ` (called: ${made.join(', ')})` : ' (no tool calls)'}`);
      }
      if (!value.arguments) return outcome(true, `called '${value.name}'`);
      for (const call of calls) {
        let args: unknown;
        try {
          args = JSON.parse(call.arguments || '{}');
        } catch {
          continue;
        }
        if (subsetMatch(args, value.arguments)) return outcome(true, `called '${value.name}' with the expected arguments`);
      }
      return outcome(false, `called '${value.name}' with ${calls[0].arguments}, expected arguments including ${JSON.stringify(value.arguments)}`);
    },
  }),
];
