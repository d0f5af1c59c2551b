import type { ChatBody, Reply } from './fake-openai';
import type { AnthropicReply, MessagesBody } from './fake-anthropic';

/**
 * The model both PromptGate and promptfoo talk to when their verdicts on the interop corpus are
 * compared (test/fixtures/interop): deterministic, so each tool's pass or fail depends only on how
 * it reads the file. It repeats the last user message; it calls the first tool, when there are
 * tools, with each required string argument set to that message; and a grading request (either
 * tool's judge) gets a passing JSON verdict.
 */
const GRADER = /You grade the output of an AI system|grading output according to|<Rubric>|You are comparing a submitted answer|Does the submission meet the criterion/i;

function answer(system: string, messages: { role: string; content: unknown }[], tools: { name: string; parameters?: unknown }[]): { text?: string; call?: { name: string; input: Record<string, unknown> } } {
  const text = (c: unknown) => (typeof c === 'string' ? c : Array.isArray(c) ? c.map((p) => (p as { text?: string }).text ?? '').join('\n') : JSON.stringify(c));
  const all = [system, ...messages.map((m) => text(m.content))].join('\n');
  if (GRADER.test(all)) return { text: JSON.stringify({ reason: 'The output meets the rubric.', pass: true, score: 1 }) };
  const last = text([...messages].reverse().find((m) => m.role === 'user')?.content ?? '');
  if (tools.length) {
    const params = (tools[0].parameters ?? {}) as { properties?: Record<string, { type?: string }>; required?: string[] };
    const input: Record<string, unknown> = {};
    for (const k of params.required ?? []) if (params.properties?.[k]?.type === 'string') input[k] = last;
    return { call: { name: tools[0].name, input } };
  }
  return { text: `echo: ${last}` };
}

export function interopOpenAI(body: ChatBody): Reply {
  const tools = ((body.tools ?? []) as { function: { name: string; parameters?: unknown } }[]).map((t) => t.function);
  const a = answer('', body.messages, tools);
  return a.call ? { content: null, toolCalls: [{ name: a.call.name, arguments: JSON.stringify(a.call.input) }] } : { content: a.text ?? '' };
}

export function interopAnthropic(body: MessagesBody): AnthropicReply {
  const tools = (body.tools ?? []).map((t) => ({ name: t.name, parameters: t.input_schema }));
  const system = typeof body.system === 'string' ? body.system : JSON.stringify(body.system ?? '');
  const a = answer(system, body.messages, tools);
  return a.call ? { toolUses: [{ name: a.call.name, input: a.call.input }] } : { text: a.text ?? '' };
}
