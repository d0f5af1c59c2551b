/**
 * promptfoo's multi-turn prompts: a chat prompt written as a JSON template (`prompt.json` with a
 * `{% for completion in _conversation %}` loop), and tests that share a conversation (their
 * `metadata.conversationId`, or all of a prompt's tests). PromptGate runs such a conversation as one
 * case whose turns are the tests in order: the first test's messages open it, each later test's
 * last user message is the next turn, and the answers so far are the history, as promptfoo's
 * `_conversation` loop renders them. Each test's assertions check its own turn's answer.
 */
import { referencedVariables, renderTemplate } from '../template';
import { chatSchema, type PfTest } from './promptfoo-schema';

type Messages = { role: 'system' | 'developer' | 'user' | 'assistant'; content: string }[];

/**
 * A JSON chat prompt that is a template (its messages depend on variables): rendered once with
 * each variable standing for itself (`{{ question }}`) and no conversation yet, so its messages are
 * templates PromptGate renders per case. Undefined when it is not such a prompt.
 */
export function templatedChat(text: string): Messages | undefined {
  if (!text.includes('{{') && !text.includes('{%')) return undefined;
  let rendered: string;
  try {
    const names = new Set(referencedVariables(text).map((r) => r.name));
    const standIns: Record<string, unknown> = Object.fromEntries([...names].map((n) => [n, `{{ ${n} }}`]));
    standIns._conversation = [];
    rendered = renderTemplate(text, standIns, 'lenient');
  } catch {
    return undefined;
  }
  let data: unknown;
  try {
    // A loop that rendered nothing may leave a comma before the closing bracket.
    data = JSON.parse(rendered.replace(/,(\s*[\]}])/g, '$1'));
  } catch {
    return undefined;
  }
  const parsed = chatSchema().safeParse(data);
  return parsed.success ? parsed.data : undefined;
}

/** Whether a prompt's text refers to the conversation so far. */
export const usesConversation = (text: string) => /\b_conversation\b/.test(text);

/** A prompt's tests as conversations: grouped by `metadata.conversationId` (one group without it), each in the order written. */
export function conversations(tests: readonly PfTest[]): PfTest[][] {
  const groups = new Map<string, PfTest[]>();
  for (const t of tests) {
    const id = t.metadata?.conversationId === undefined ? '' : String(t.metadata.conversationId);
    groups.set(id, [...(groups.get(id) ?? []), t]);
  }
  return [...groups.values()];
}
