import { z } from 'zod';
import { ask, graded, tag } from './model';
import { define, outcome } from './types';
import type { AssertionContext } from '../types/assertions';

/**
 * Retrieval checks (promptfoo's context-* names, after RAGAS): a judge scores the output or the
 * retrieved context against each other. The context is the case's `context` variable (a text, or a
 * list of passages); the question is its `query` variable, else the last user message sent.
 * Each passes when the judge's score reaches `threshold` (default 0.7).
 */
const DEFAULT_THRESHOLD = 0.7;

function retrieved(context: AssertionContext): string | undefined {
  const c = context.vars.context;
  if (typeof c === 'string') return c;
  if (Array.isArray(c) && c.length) return c.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('\n\n');
  return undefined;
}

const query = (context: AssertionContext) => (typeof context.vars.query === 'string' ? context.vars.query : context.question);
const noContext = () => ({ ...outcome(false, "needs the case's `context` variable (the retrieved text, or a list of passages)"), errored: true });

export const contextAssertions = [
  define<undefined>({
    id: 'context-faithfulness',
    kind: 'model',
    description: "a judge scores the share of the output's claims that the case's `context` supports (hallucinations lower it); passes at `threshold` (default 0.7)",
    value: z.undefined(),
    threshold: 'optional',
    evaluateModel: async ({ output, context, judge, threshold }) => {
      const ctx = retrieved(context);
      if (ctx === undefined) return noContext();
      return graded(judge, ask(`List the factual claims the answer makes, and check each against the context. score is the share of claims the context supports (1 when every claim is supported, or the answer makes none).\n\n${tag('question', query(context))}\n\n${tag('context', ctx)}\n\n${tag('answer', output)}`), threshold ?? DEFAULT_THRESHOLD, true);
    },
  }),
  define<string>({
    id: 'context-recall',
    kind: 'model',
    description: "a judge scores the share of the expected answer in `value` that the case's `context` contains; passes at `threshold` (default 0.7)",
    value: z.string().min(1),
    threshold: 'optional',
    evaluateModel: async ({ value, context, judge, threshold }) => {
      const ctx = retrieved(context);
      if (ctx === undefined) return noContext();
      return graded(judge, ask(`Split the expected answer into its statements and check whether each can be attributed to the context. score is the share that can.\n\n${tag('context', ctx)}\n\n${tag('expected', value)}`), threshold ?? DEFAULT_THRESHOLD, true);
    },
  }),
  define<undefined>({
    id: 'context-relevance',
    kind: 'model',
    description: "a judge scores the share of the case's `context` that is needed to answer the question (`query`, else the last user message); passes at `threshold` (default 0.7)",
    value: z.undefined(),
    threshold: 'optional',
    evaluateModel: async ({ context, judge, threshold }) => {
      const ctx = retrieved(context);
      if (ctx === undefined) return noContext();
      return graded(judge, ask(`Which sentences of the context are relevant to answering the question? score is the share of the context's sentences that are.\n\n${tag('question', query(context))}\n\n${tag('context', ctx)}`), threshold ?? DEFAULT_THRESHOLD, true);
    },
  }),
];
