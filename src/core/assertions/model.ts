import { z } from 'zod';
import { define, outcome } from './types';
import type { AssertionOutcome } from '../types/results';
import type { JudgeContext, JudgeQuestion } from '../types/assertions';
import { renderTemplate } from '../template';

/**
 * Model-graded assertions (promptfoo's names). The judge answers through a JSON Schema response
 * `{pass, score, reason}`; its answer is parsed strictly in judge.ts and a malformed one is an
 * error, never a pass.
 */

const GRADER = 'You grade the output of an AI system. Be strict and literal; judge only what is asked. Answer with JSON: "reason" (one or two sentences), "pass" (boolean), "score" (a number from 0 to 1).';

type Rubric = string | { rubric?: string; prompt?: { role: 'system' | 'user' | 'assistant'; content: string }[] };

export const ask = (user: string): JudgeQuestion => ({ system: GRADER, user });
export const tag = (name: string, text: string) => `<${name}>\n${text}\n</${name}>`;

export async function graded(judge: JudgeContext, question: JudgeQuestion, threshold: number | undefined, scoreOnly = false): Promise<AssertionOutcome> {
  const a = await judge.grade(question);
  const pass = threshold !== undefined ? a.score >= threshold : scoreOnly ? a.score >= 0.5 : a.pass;
  const consistency = a.samples > 1 ? ` (judge agreement ${Math.round(a.agreement * 100)}% over ${a.samples})` : '';
  return { pass, score: a.score, reason: `${a.reason}${consistency}`, judge: { samples: a.samples, agreement: a.agreement, scores: a.scores } };
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

export const modelAssertions = [
  define<Rubric, Rubric>({
    id: 'llm-rubric',
    kind: 'model',
    description:
      "a judge model grades the output against the rubric in `value`; `threshold` on its score, else its pass flag. `value` may also be {rubric, prompt}: `prompt` is the judge's messages (templates over the case's variables, `output` and `rubric`), asked to answer JSON {pass, score, reason}",
    value: z.union([
      z.string().min(1),
      z
        .object({
          rubric: z.string().optional(),
          prompt: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() }).strict()).min(1).optional(),
        })
        .strict(),
    ]),
    threshold: 'optional',
    // A rubric prompt's templates are checked when the suite loads: a syntax error is a located error then.
    compile: (value) => {
      if (typeof value !== 'string') for (const m of value.prompt ?? []) renderTemplate(m.content, {}, 'lenient');
      return value;
    },
    evaluateModel: ({ output, value, threshold, judge, context }) => {
      const rubric = typeof value === 'string' ? value : (value.rubric ?? '');
      if (typeof value === 'string' || !value.prompt) return graded(judge, ask(`Grade the output against the rubric.\n\n${tag('rubric', rubric)}\n\n${tag('output', output)}`), threshold);
      const vars = { ...context.vars, output, rubric: renderTemplate(rubric, context.vars, 'lenient') };
      return graded(judge, { messages: value.prompt.map((m) => ({ role: m.role, content: renderTemplate(m.content, vars, 'lenient') })) }, threshold);
    },
  }),
  define<string>({
    id: 'model-graded-closedqa',
    kind: 'model',
    description: 'a judge decides whether the output meets the criterion in `value`, given the question asked',
    value: z.string().min(1),
    evaluateModel: ({ output, value, context, judge }) =>
      graded(judge, ask(`Does the submission meet the criterion? pass is true only if it fully does; score 1 if it does, 0 if not.\n\n${tag('question', context.question)}\n\n${tag('submission', output)}\n\n${tag('criterion', value)}`), undefined),
  }),
  define<string>({
    id: 'factuality',
    kind: 'model',
    description: 'a judge checks that the output agrees in fact with the reference answer in `value` (a subset, superset or rewording passes; a contradiction fails)',
    value: z.string().min(1),
    threshold: 'optional',
    evaluateModel: ({ output, value, context, judge, threshold }) =>
      graded(
        judge,
        ask(`Compare the factual content of the submission with the expert answer; ignore style. It passes when it is a subset or superset of the expert answer, or says the same; it fails when it contradicts it. Score 1 for the same facts, lower for omissions, 0 for a contradiction.\n\n${tag('question', context.question)}\n\n${tag('expert', value)}\n\n${tag('submission', output)}`),
        threshold,
      ),
  }),
  define<undefined>({
    id: 'answer-relevance',
    kind: 'model',
    description: 'a judge scores how relevant the output is to the question asked; passes at `threshold` (default 0.7)',
    value: z.undefined(),
    threshold: 'optional',
    evaluateModel: ({ output, context, judge, threshold }) =>
      graded(judge, ask(`How relevant and responsive is the answer to the question? Score 1 for a direct, complete answer, 0 for an unrelated one.\n\n${tag('question', context.question)}\n\n${tag('answer', output)}`), threshold ?? 0.7, true),
  }),
  define<string | string[]>({
    id: 'similar',
    kind: 'model',
    description: "cosine similarity of embeddings (the provider's embeddings endpoint) between the output and the value (or the closest of several) is at least `threshold` (default 0.8)",
    value: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    threshold: 'optional',
    evaluateModel: async ({ output, value, threshold, judge }) => {
      const refs = Array.isArray(value) ? value : [value];
      const [out, ...vectors] = await judge.embed([output, ...refs]);
      const best = Math.max(...vectors.map((v) => cosine(out, v)));
      const min = threshold ?? 0.8;
      return outcome(best >= min, `cosine similarity ${best.toFixed(3)} (at least ${min} needed)`, Math.max(0, best));
    },
  }),
];
