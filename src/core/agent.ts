/**
 * Agent cases: the model's tool calls are answered by the case's mocks and the model is called
 * again with the answers, until it answers without a tool call (then the next scripted user turn
 * follows) or reaches `maxSteps`. Every model call goes through the same cache and cassettes as a
 * one-call case, so an agent suite records and replays step by step. What goes wrong in the loop
 * (arguments that are not JSON, a tool without a mock, a mock script that throws, too many steps)
 * ends the sample as a failure with the reason, never as a crash.
 */
import { runMockScript, mockScriptBody } from './assertions/javascript';
import { deepEqual } from './assertions/text';
import { isToolCallsOutput, type ChatMessage, type ProviderRequest, type ProviderResponse, type Usage } from './providers/types';
import type { MockAnswer, Step, ToolMock } from './types/agent';
import type { AgentSpec } from './types/cases';
import type { ResponseSource } from './types/results';

export interface ModelAnswer {
  response: ProviderResponse;
  source: ResponseSource;
  latencyMs: number;
}

export interface AgentRun {
  /** Each turn that was answered: its final answer and its steps. */
  turns: { response: ProviderResponse; steps: Step[] }[];
  steps: Step[];
  /** The last answer the model gave (the final one, when the run finished). */
  last: ProviderResponse;
  /** Why the run did not finish; undefined when every turn got an answer without tool calls. */
  failure?: string;
  latencyMs: number;
  usage?: Usage;
  source: ResponseSource;
}

/** What a tool message says for an injected failure. */
function failed(name: string, a: MockAnswer): string {
  if (a.fail === 'malformed') return `{"status": "ok", "data": [{"id": ${JSON.stringify(name)}, "value":`;
  return JSON.stringify({ error: a.message ?? (a.fail === 'timeout' ? `${name} timed out` : `${name} failed`) });
}

const asText = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'null'));

/** True when every key of `want` is in `args` with an equal value (objects compared as subsets). */
function matches(args: unknown, want: Record<string, unknown>): boolean {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return false;
  return Object.entries(want).every(([k, v]) => {
    const got = (args as Record<string, unknown>)[k];
    return v && typeof v === 'object' && !Array.isArray(v) ? matches(got, v as Record<string, unknown>) : deepEqual(got, v);
  });
}

/** The mock's answer to one call: the tool message's text, or why there is none. */
export function answerCall(name: string, mock: ToolMock, args: unknown, call: number): { content: string; injected?: MockAnswer['fail'] } | { error: string } {
  const reply = (a: MockAnswer) => (a.fail ? { content: failed(name, a), injected: a.fail } : { content: asText(a.result ?? null) });
  if (mock.javascript) {
    const r = runMockScript(mockScriptBody(mock.javascript), args, call);
    return 'error' in r ? { error: `the mock of '${name}' threw: ${r.error}` } : { content: asText(r.value ?? null) };
  }
  const hit = mock.when?.find((w) => matches(args, w.args));
  if (hit) return reply(hit);
  if (mock.sequence) return reply(mock.sequence[Math.min(call, mock.sequence.length - 1)]);
  if (mock.result !== undefined || mock.fail) return reply(mock);
  return { error: `the mock of '${name}' has no answer for ${JSON.stringify(args)} (no 'when' matches, and it has no result)` };
}

function addUsage(total: Usage | undefined, u: Usage | undefined): Usage | undefined {
  if (!u) return total;
  return { promptTokens: (total?.promptTokens ?? 0) + u.promptTokens, completionTokens: (total?.completionTokens ?? 0) + u.completionTokens, totalTokens: (total?.totalTokens ?? 0) + u.totalTokens };
}

/** Runs one sample of an agent case; `ask` answers one request (cache, cassettes or the provider) and may throw a ProviderError. */
export async function runAgent(request: ProviderRequest, agent: AgentSpec, ask: (request: ProviderRequest) => Promise<ModelAnswer>): Promise<AgentRun> {
  const messages: ChatMessage[] = [...request.messages];
  const steps: Step[] = [];
  const turns: AgentRun['turns'] = [];
  const calls = new Map<string, number>();
  let latencyMs = 0;
  let usage: Usage | undefined;
  const sources = new Set<ResponseSource>();
  let last: ProviderResponse = { output: '', toolCalls: [] };
  let failure: string | undefined;
  const inputs = [undefined, ...agent.turns.map((t) => t.message)];
  turnLoop: for (let turn = 0; turn < inputs.length; turn++) {
    if (inputs[turn] !== undefined) messages.push({ role: 'user', content: inputs[turn]! });
    const first = steps.length;
    for (let n = 0; ; n++) {
      if (n === agent.maxSteps) {
        failure = `reached maxSteps (${agent.maxSteps})${inputs.length > 1 ? ` in turn ${turn + 1}` : ''} without an answer that calls no tool`;
        break turnLoop;
      }
      let got: ModelAnswer;
      try {
        got = await ask({ ...request, messages: [...messages] });
      } catch (err) {
        // The steps so far stay with the error: the sample is errored, not emptied.
        if (err && typeof err === 'object') (err as { steps?: Step[] }).steps = steps;
        throw err;
      }
      latencyMs += got.latencyMs;
      usage = addUsage(usage, got.response.usage);
      sources.add(got.source);
      last = got.response;
      const r = got.response;
      steps.push({ kind: 'model', turn, output: r.output, toolCalls: r.toolCalls, finishReason: r.finishReason, latencyMs: got.latencyMs, usage: r.usage, source: got.source, ...(r.retries ? { retries: r.retries } : {}) });
      if (!r.toolCalls.length) {
        turns.push({ response: r, steps: steps.slice(first) });
        // The answer is history for the next turn.
        messages.push({ role: 'assistant', content: r.output });
        break;
      }
      if (r.toolCalls.some((c) => c.legacy)) {
        failure = 'the model answered with a legacy function_call; agent cases loop over tools (the tools API)';
        break turnLoop;
      }
      const ids = r.toolCalls.map((c, i) => c.id ?? `call_${steps.length}_${i}`);
      messages.push({ role: 'assistant', content: isToolCallsOutput(r) ? '' : r.output, tool_calls: r.toolCalls.map((c, i) => ({ id: ids[i], type: 'function', function: { name: c.name, arguments: c.arguments } })) });
      for (const [i, c] of r.toolCalls.entries()) {
        let args: unknown;
        try {
          args = JSON.parse(c.arguments || '{}');
        } catch {
          failure = `the model called '${c.name}' with arguments that are not valid JSON: ${JSON.stringify(c.arguments.slice(0, 80))}`;
          steps.push({ kind: 'tool', turn, name: c.name, arguments: c.arguments, error: failure });
          break turnLoop;
        }
        const mock = agent.mocks[c.name];
        if (!mock) {
          failure = `the model called '${c.name}', which has no mock (mocked: ${Object.keys(agent.mocks).join(', ') || 'none'})`;
          steps.push({ kind: 'tool', turn, name: c.name, arguments: c.arguments, error: failure });
          break turnLoop;
        }
        const k = calls.get(c.name) ?? 0;
        calls.set(c.name, k + 1);
        const answer = answerCall(c.name, mock, args, k);
        if ('error' in answer) {
          failure = answer.error;
          steps.push({ kind: 'tool', turn, name: c.name, arguments: c.arguments, error: failure });
          break turnLoop;
        }
        steps.push({ kind: 'tool', turn, name: c.name, arguments: c.arguments, result: answer.content, ...(answer.injected ? { injected: answer.injected } : {}) });
        messages.push({ role: 'tool', tool_call_id: ids[i], content: answer.content });
      }
    }
  }
  const source: ResponseSource = sources.has('live') ? 'live' : sources.has('replay') ? 'replay' : 'cache';
  return { turns, steps, last, failure, latencyMs, usage, source };
}

/** A recorded agent sample as a run (`--rejudge`): its steps, each turn's final answer, and why it did not finish, as recorded. */
export function recordedRun(r: { output?: string; finishReason?: string; usage?: Usage; latencyMs?: number; steps: Step[]; assertions: { type: string; reason: string }[] }): AgentRun {
  const turns: AgentRun['turns'] = [];
  for (const [i, s] of r.steps.entries()) {
    if (s.kind === 'model' && !s.toolCalls.length) turns[s.turn] = { response: { output: s.output, toolCalls: [], finishReason: s.finishReason, usage: s.usage }, steps: r.steps.slice(0, i + 1).filter((x) => x.turn === s.turn) };
  }
  return {
    turns,
    steps: r.steps,
    last: { output: r.output ?? '', toolCalls: [], finishReason: r.finishReason },
    failure: r.assertions.find((a) => a.type === 'agent')?.reason,
    latencyMs: r.latencyMs ?? 0,
    usage: r.usage,
    source: 'replay',
  };
}
