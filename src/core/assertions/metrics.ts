import { z } from 'zod';
import { define, outcome } from './types';

export const metricAssertions = [
  define<undefined>({
    id: 'latency',
    kind: 'pure',
    description: 'model latency in milliseconds is at most `threshold` (cache hits use the recorded latency)',
    value: z.undefined(),
    threshold: 'required',
    evaluate: ({ threshold, context }) => {
      const ms = Math.round(context.latencyMs);
      return outcome(ms <= threshold!, `latency ${ms} ms${context.cached ? ' (recorded)' : ''}, at most ${threshold} ms allowed`);
    },
  }),
  define<undefined>({
    id: 'cost',
    kind: 'pure',
    description: 'estimated cost in USD is at most `threshold`',
    value: z.undefined(),
    threshold: 'required',
    evaluate: ({ threshold, context }) => {
      // An unknown cost is not a failed one: the check is reported as not made.
      if (context.cost === undefined) return outcome(true, 'cost unknown, not checked: the model has no price (add it under `prices` in promptgate.config.yml) or no usage was reported');
      return outcome(context.cost <= threshold!, `cost $${context.cost.toFixed(6)}, at most $${threshold} allowed`);
    },
  }),
  define<string>({
    id: 'finish-reason',
    kind: 'pure',
    description: "the model's finish reason equals the value (stop, length, tool_calls, content_filter)",
    value: z.string().min(1),
    evaluate: ({ value, context }) => {
      const actual = context.response.finishReason ?? '(none)';
      return outcome(actual.toLowerCase() === value.toLowerCase(), `finish reason is '${actual}', expected '${value}'`);
    },
  }),
];
