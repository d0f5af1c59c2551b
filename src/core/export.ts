/**
 * Writes a PromptGate prompt with its golden cases in other tools' formats, for teams that use those
 * too: a promptfoo configuration, or a Prompty file. What the target cannot express is listed, never
 * dropped silently.
 */
import { vendor } from './vendor';
import type { CaseSpec, PromptSpec } from './types/cases';

export type ExportFormat = 'promptfoo' | 'prompty';
export interface Exported {
  text: string;
  /** What was left out, one line each (also written as comments in the file). */
  omitted: string[];
}

/** Assertion types promptfoo runs with the same meaning. */
const PROMPTFOO_TYPES = new Set([
  'equals', 'contains', 'icontains', 'contains-any', 'contains-all', 'icontains-any', 'icontains-all', 'starts-with', 'regex', 'is-json', 'contains-json',
  'is-valid-openai-tools-call', 'javascript', 'latency', 'cost', 'levenshtein', 'llm-rubric', 'model-graded-closedqa', 'factuality', 'answer-relevance',
  'similar', 'finish-reason', 'is-refusal', 'word-count', 'is-valid-openai-function-call', 'context-faithfulness', 'context-recall', 'context-relevance',
]);

const params = (p: PromptSpec) => {
  const t = p.template.parameters;
  const out: Record<string, unknown> = { temperature: t.temperature, max_tokens: t.maxTokens, top_p: t.topP, seed: t.seed, stop: t.stop, presence_penalty: t.presencePenalty, frequency_penalty: t.frequencyPenalty };
  if (p.template.responseFormat === 'json_object') out.response_format = { type: 'json_object' };
  if (p.template.responseFormat === 'json_schema') out.response_format = { type: 'json_schema', json_schema: p.template.jsonSchema };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
};

/** The cases worth exporting: golden ones, one per id (the first model of a multi-model suite). */
function goldenCases(prompt: PromptSpec, cases: readonly CaseSpec[], omitted: string[]): CaseSpec[] {
  const mine = cases.filter((c) => c.prompt === prompt);
  const adversarial = new Set(mine.filter((c) => c.suiteKind === 'adversarial').map((c) => c.suite));
  for (const s of adversarial) omitted.push(`adversarial suite '${s}' (attack packs are PromptGate's own)`);
  const seen = new Set<string>();
  return mine.filter((c) => c.suiteKind === 'golden' && !seen.has(c.id.replace(/@[^:]*$/, '')) && seen.add(c.id.replace(/@[^:]*$/, '')));
}

/** Variables as the case sets them, minus the prompt's defaults (promptfoo's defaultTest holds those). */
function ownVars(c: CaseSpec, defaults: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c.vars).filter(([k, v]) => JSON.stringify(defaults[k]) !== JSON.stringify(v)));
}

export function toPromptfoo(prompt: PromptSpec, cases: readonly CaseSpec[]): Exported {
  const omitted: string[] = [];
  const defaults = Object.fromEntries(Object.entries(prompt.variables ?? {}).filter(([, v]) => v.default !== undefined).map(([k, v]) => [k, v.default]));
  const t = prompt.template;
  const single = t.messages.length === 1 && t.messages[0].role === 'user';
  const ids: Record<string, string> = { echo: 'echo', anthropic: `anthropic:messages:${prompt.model}`, azure: `azure:chat:${prompt.model}`, gemini: `google:${prompt.model}`, ollama: `ollama:chat:${prompt.model}` };
  const provider: Record<string, unknown> = { id: ids[prompt.provider.id] ?? `openai:chat:${prompt.model.replace(/^openai\//, '')}`, label: prompt.model };
  const config = { ...params(prompt), ...(prompt.tools.length ? { tools: prompt.tools } : {}), ...(t.toolChoice ? { tool_choice: t.toolChoice } : {}), ...(prompt.provider.baseURL ? { apiBaseUrl: prompt.provider.baseURL } : {}) };
  if (Object.keys(config).length) provider.config = config;
  const tests = goldenCases(prompt, cases, omitted).map((c) => {
    const assert = c.assertions.flatMap((a) => {
      // promptfoo has no ends-with: the same check as an anchored regex.
      if (a.definition.id === 'ends-with' && typeof a.value === 'string') return [{ type: a.negate ? 'not-regex' : 'regex', value: `${a.value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, ...(a.weight !== 1 ? { weight: a.weight } : {}), ...(a.metric ? { metric: a.metric } : {}), ...(typeof a.transformSource === 'string' ? { transform: a.transformSource } : {}) }];
      if (!PROMPTFOO_TYPES.has(a.definition.id)) {
        omitted.push(`${c.suite} › ${c.name}: assertion '${a.type}' (promptfoo has no equivalent)`);
        return [];
      }
      const out: Record<string, unknown> = { type: a.type };
      // A rubric with its own judge prompt: promptfoo's assertion-level rubricPrompt.
      const rubric = a.definition.id === 'llm-rubric' && a.value && typeof a.value === 'object' ? (a.value as { rubric?: string; prompt?: unknown }) : undefined;
      if (rubric) {
        if (rubric.rubric !== undefined) out.value = rubric.rubric;
        if (rubric.prompt) out.rubricPrompt = rubric.prompt;
      } else if (a.value !== undefined) out.value = a.value;
      if (a.threshold !== undefined) out.threshold = a.threshold;
      if (a.weight !== 1) out.weight = a.weight;
      if (a.metric) out.metric = a.metric;
      if (a.judgeModel) out.provider = a.judgeModel;
      if (typeof a.transformSource === 'string') out.transform = a.transformSource;
      else if (a.transformSource) omitted.push(`${c.suite} › ${c.name}: assertion '${a.type}' has a chain of transforms (promptfoo takes one per assertion)`);
      return [out];
    });
    const test: Record<string, unknown> = { description: c.name, vars: ownVars(c, defaults) };
    if (assert.length) test.assert = assert;
    if (c.threshold !== undefined) test.threshold = c.threshold;
    test.metadata = { suite: c.suite };
    if (c.samples !== undefined && c.samples !== 1) omitted.push(`${c.suite} › ${c.name}: samples ${c.samples} (promptfoo repeats whole runs: evaluateOptions.repeat)`);
    return test;
  });
  // promptfoo runs a test once per element of a list variable unless told not to; here a list is one value.
  const lists = cases.some((c) => Object.values(c.vars).some(Array.isArray));
  const doc: Record<string, unknown> = {
    description: `${prompt.name}${prompt.version ? ` ${prompt.version}` : ''}${prompt.description ? `: ${prompt.description}` : ''}`,
    prompts: [{ raw: single ? t.messages[0].content : JSON.stringify(t.messages), label: prompt.name }],
    providers: [provider],
    ...(Object.keys(defaults).length || lists ? { defaultTest: { ...(Object.keys(defaults).length ? { vars: defaults } : {}), ...(lists ? { options: { disableVarExpansion: true } } : {}) } } : {}),
    tests,
  };
  return { text: header(prompt, 'promptfoo', omitted) + vendor.yamlDump()(doc, { lineWidth: -1, noRefs: true }), omitted };
}

export function toPrompty(prompt: PromptSpec, cases: readonly CaseSpec[]): Exported {
  const omitted: string[] = [];
  const t = prompt.template;
  if (prompt.tools.length) omitted.push('tools (Prompty has no place for them)');
  const golden = goldenCases(prompt, cases, omitted);
  if (golden.length > 1) omitted.push(`${golden.length - 1} more case(s): Prompty keeps one sample (the first case)`);
  const inputs = Object.fromEntries(Object.entries(prompt.variables ?? {}).map(([k, v]) => [k, Object.fromEntries(Object.entries({ type: v.type, default: v.default, description: v.description }).filter(([, x]) => x !== undefined))]));
  const fm: Record<string, unknown> = {
    name: prompt.name,
    ...(prompt.description ? { description: prompt.description } : {}),
    ...(prompt.version ? { version: prompt.version } : {}),
    model: { api: 'chat', configuration: { type: 'openai', name: prompt.model.replace(/^openai\//, ''), ...(prompt.provider.baseURL ? { base_url: prompt.provider.baseURL } : {}) }, ...(Object.keys(params(prompt)).length ? { parameters: params(prompt) } : {}) },
    ...(Object.keys(inputs).length ? { inputs } : {}),
    ...(golden[0] ? { sample: golden[0].vars } : {}),
  };
  const body = t.messages.map((m) => `${m.role}:\n${m.content.trim()}\n`).join('\n');
  return { text: `---\n${header(prompt, 'prompty', omitted)}${vendor.yamlDump()(fm, { lineWidth: -1, noRefs: true })}---\n${body}`, omitted };
}

function header(prompt: PromptSpec, to: ExportFormat, omitted: string[]): string {
  const lines = [`# Exported by PromptGate from ${prompt.relFile} (content hash ${prompt.versionId}) as ${to}.`];
  for (const o of omitted) lines.push(`# Not exported: ${o}`);
  return `${lines.join('\n')}\n`;
}
