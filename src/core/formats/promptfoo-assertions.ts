/* promptfoo's assertions as PromptGate reads them: its type names, its one-line form, its value conventions. */
import type { AssertionData } from '../schema';
import { chatSchema, type PfTest } from './promptfoo-schema';
import { safeJson } from './promptfoo-prompts';

/** promptfoo's assertion types (its BaseAssertionTypesSchema): those PromptGate lacks are skipped, others are typos. */
export const PROMPTFOO_ASSERTION_TYPES: readonly string[] = [
  'answer-relevance', 'bleu', 'classifier', 'contains', 'contains-all', 'contains-any', 'contains-html', 'contains-json', 'contains-sql', 'contains-xml',
  'context-faithfulness', 'context-recall', 'context-relevance', 'conversation-relevance', 'cost', 'equals', 'factuality', 'finish-reason', 'g-eval', 'gleu',
  'guardrails', 'human', 'icontains', 'icontains-all', 'icontains-any', 'is-html', 'is-json', 'is-refusal', 'is-sql', 'is-valid-function-call',
  'is-valid-openai-function-call', 'is-valid-openai-tools-call', 'is-xml', 'javascript', 'latency', 'levenshtein', 'llm-rubric', 'pi', 'meteor',
  'model-graded-closedqa', 'model-graded-factuality', 'moderation', 'perplexity', 'perplexity-score', 'python', 'regex', 'rouge-l', 'rouge-n', 'rouge-s', 'ruby',
  'select-best', 'max-score', 'similar', 'similar:cosine', 'similar:dot', 'similar:euclidean', 'starts-with', 'tool-call-f1', 'trace-error-spans', 'trace-span-count',
  'trace-span-duration', 'webhook', 'word-count', 'assert-set',
];

/**
 * promptfoo's one-line assertions (CSV `__expected` columns): `type:value`, `type(threshold):value`,
 * `not-type:value`, `javascript:`/`fn:`, `grade:`/`llm-rubric:`, `is-json`; anything else is `equals`.
 */
export function assertionFromShorthand(text: string, knownTypes: readonly string[]): AssertionData | { unsupported: string } {
  for (const prefix of ['javascript:', 'fn:', 'eval:']) if (text.startsWith(prefix)) return { type: 'javascript', value: text.slice(prefix.length).trim(), weight: 1 };
  for (const prefix of ['grade:', 'llm-rubric:']) if (text.startsWith(prefix)) return { type: 'llm-rubric', value: text.slice(prefix.length), weight: 1 };
  if (text.startsWith('python:')) return { type: 'python', value: text.slice('python:'.length).trim(), weight: 1 };
  if (text.startsWith('file:')) return { unsupported: `'${text.slice(0, 40)}': file assertions are not run by PromptGate` };
  const m = /^(not-)?([a-z][a-z-]*)(?:\((\d+(?:\.\d+)?)\))?(?::([\s\S]*))?$/.exec(text);
  // A promptfoo type PromptGate lacks (`rouge-n:…`, `is-xml`) is skipped, not read as an `equals`.
  if (m && !knownTypes.includes(m[2]) && PROMPTFOO_ASSERTION_TYPES.includes(m[2]) && (m[3] !== undefined || m[4] !== undefined || m[2].startsWith('is-'))) {
    return { unsupported: `assertion '${m[1] ?? ''}${m[2]}' is not run by PromptGate` };
  }
  if (m && knownTypes.includes(m[2])) {
    const [, not, type, threshold, value] = m;
    const list = ['contains-any', 'contains-all', 'icontains-any', 'icontains-all'].includes(type);
    return {
      type: `${not ?? ''}${type}`,
      value: value === undefined ? undefined : list ? value.split(',').map((v) => v.trim()) : type === 'equals' || type === 'regex' ? value : value.trim(),
      threshold: threshold !== undefined ? Number(threshold) : type === 'similar' ? 0.8 : undefined,
      weight: 1,
    };
  }
  return { type: 'equals', value: text, weight: 1 };
}

/** Text checks compare with text: promptfoo reads a number or boolean written as their value (`contains: 24.01`) as its text. */
const TEXT_TYPES = new Set(['equals', 'contains', 'icontains', 'contains-any', 'contains-all', 'icontains-any', 'icontains-all', 'starts-with', 'regex', 'levenshtein', 'similar']);
export function textual(type: string, value: unknown): unknown {
  if (!TEXT_TYPES.has(type)) return value;
  const text = (v: unknown) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v);
  return Array.isArray(value) ? value.map(text) : text(value);
}

const JUDGED = new Set(['llm-rubric', 'model-graded-closedqa', 'factuality', 'answer-relevance', 'similar']);
export const isJudged = (type: string) => JUDGED.has(type.replace(/^not-/, ''));

type RubricMessages = { role: 'system' | 'user' | 'assistant'; content: string }[];

/** promptfoo's rubricPrompt: a list of messages, their JSON, or a text sent as the one user message. */
export function rubricMessages(raw: unknown): RubricMessages | undefined {
  const parsed = chatSchema().safeParse(typeof raw === 'string' && raw.trim().startsWith('[') ? safeJson(raw) : raw);
  if (parsed.success) return parsed.data.map((m) => ({ role: m.role === 'developer' ? 'system' : m.role, content: m.content }));
  return typeof raw === 'string' && raw.trim() ? [{ role: 'user', content: raw }] : undefined;
}

/** An llm-rubric without its own judge prompt takes its test's (options.rubricPrompt). */
export function withRubricPrompt(assertions: PfTest['assertions'], prompt: RubricMessages | undefined): PfTest['assertions'] {
  if (!prompt) return assertions;
  return assertions.map((x) => {
    if (x.a.type.replace(/^not-/, '') !== 'llm-rubric') return x;
    const v = x.a.value;
    if (v && typeof v === 'object' && (v as { prompt?: unknown }).prompt) return x;
    const rubric = typeof v === 'string' ? v : (v as { rubric?: string } | undefined)?.rubric;
    return { ...x, a: { ...x.a, value: { ...(rubric !== undefined ? { rubric } : {}), prompt } } };
  });
}

/** python assertions written as file://check.py:function (get_assert by default): the file's text, read through the project's reader. */
export async function readPythonFiles(tests: PfTest[], read: (file: string) => Promise<string>, fail: (x: PfTest['assertions'][number], message: string) => void): Promise<void> {
  for (const t of tests) {
    for (const x of t.assertions) {
      const v = x.a.value;
      if (x.a.type.replace(/^not-/, '') !== 'python' || typeof v !== 'string' || !v.startsWith('file://')) continue;
      const ref = v.slice('file://'.length);
      const m = /^(.*?\.py)(?::([A-Za-z_]\w*))?$/.exec(ref);
      if (!m) {
        fail(x, `python ${ref}: a Python file (file://PATH.py or file://PATH.py:function)`);
        continue;
      }
      try {
        x.a = { ...x.a, value: { file: m[1], source: await read(m[1]), function: m[2] ?? 'get_assert' } };
      } catch (e) {
        fail(x, `cannot read ${m[1]}: ${(e as Error).message}`);
      }
    }
  }
}
