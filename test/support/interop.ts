import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { loadConfig, loadProject, mapProvider, pythonPolicy, runSession, type CaseSpec, type RunReport } from '../../src/core';

/** One promptfoo verdict, as scripts/interop-record.ts keeps it beside the config. */
export interface RecordedVerdict {
  provider: string;
  /** The rendered prompt, as promptfoo reports it. */
  prompt: string;
  vars: Record<string, unknown>;
  description?: string;
  pass: boolean;
  /** promptfoo could not run it (an API or provider error), as opposed to an assertion failing. */
  errored?: boolean;
  error?: string;
}

/** The environment both tools run with: every provider pointed at the local fakes, keys that are not real. */
export function interopEnv(openaiBaseURL: string, anthropicBaseURL: string): Record<string, string> {
  const root = openaiBaseURL.replace(/\/v1$/, '');
  return {
    OPENAI_API_KEY: 'sk-interop-not-a-key',
    OPENAI_BASE_URL: openaiBaseURL,
    OPENAI_API_BASE_URL: openaiBaseURL,
    ANTHROPIC_API_KEY: 'sk-ant-interop-not-a-key',
    ANTHROPIC_BASE_URL: anthropicBaseURL,
    AZURE_OPENAI_ENDPOINT: root,
    AZURE_OPENAI_API_KEY: 'azure-interop-not-a-key',
    AZURE_API_KEY: 'azure-interop-not-a-key',
    OLLAMA_BASE_URL: root,
    GEMINI_API_KEY: 'gemini-interop-not-a-key',
    GEMINI_BASE_URL: openaiBaseURL,
  };
}

/** The text a request sends, normalised so that promptfoo's rendered prompt and PromptGate's messages compare. */
function promptText(messages: { role: string; content: unknown }[]): string {
  const text = (c: unknown) => (typeof c === 'string' ? c : Array.isArray(c) ? c.filter((p) => (p as { type?: string }).type === 'text').map((p) => (p as { text?: string }).text ?? '').join('\n') : String(c));
  if (messages.length === 1 && messages[0].role === 'user') return text(messages[0].content).trim();
  return messages.map((m) => `${m.role}: ${text(m.content).trim()}`).join('\n');
}

function promptfooText(raw: string): string {
  try {
    const data = JSON.parse(raw) as unknown;
    const list = Array.isArray(data) ? data : (data as { messages?: unknown[] })?.messages;
    if (Array.isArray(list) && list.every((m) => m && typeof m === 'object' && 'role' in m)) return promptText(list as { role: string; content: unknown }[]);
  } catch {
    // plain text
  }
  return raw.trim();
}

const keyOf = (model: string, text: string) => `${model}\n${text}`;

export interface Comparison {
  /** Cases both tools ran, and those where their pass/fail differs. */
  compared: number;
  agreed: number;
  differences: { key: string; promptgate: boolean; promptfoo: boolean; reason?: string }[];
  /** Cases PromptGate skipped (with the reason), promptfoo results no PromptGate case matched, and those promptfoo could not run. */
  skipped: { name: string; reason: string }[];
  unmatched: number;
  promptfooErrored: { key: string; error?: string }[];
  ran: number;
}

/** Runs one corpus config with PromptGate (a copy, in a temporary folder) and compares with promptfoo's recorded verdicts. */
export async function compareWithPromptfoo(dir: string, env: Record<string, string>, recorded = true): Promise<Comparison> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-interop-'));
  try {
    await fs.cp(dir, work, { recursive: true });
    // Without recorded verdicts (promptfoo itself could not run the file), PromptGate's run is checked alone.
    const { verdicts } = recorded ? (JSON.parse(await fs.readFile(path.join(work, 'promptfoo-verdicts.json'), 'utf8')) as { verdicts: RecordedVerdict[] }) : { verdicts: [] };
    const { config } = await loadConfig(work);
    // As `promptgate test --allow-python` runs them (python3 absent: those cases are skipped).
    const project = pythonPolicy(await loadProject({ root: work, paths: [work], providerDefaults: config.provider }), true);
    const errors = project.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) throw new Error(`${path.basename(dir)} does not load: ${errors.map((d) => d.message).join('; ')}`);
    let report: RunReport | undefined;
    for await (const e of runSession({ config, project, cases: project.cases, mode: 'live', cache: false }, { env, now: Date.now })) {
      if (e.type === 'not-run') throw new Error(`${path.basename(dir)} was not run: ${JSON.stringify(e.reason)}`);
      if (e.type === 'run-finished') report = e.report as RunReport;
    }
    const ours = new Map<string, { pass: boolean; reason?: string }[]>();
    const skipped: Comparison['skipped'] = [];
    for (const o of report!.outcomes) {
      const spec: CaseSpec = o.spec;
      if (spec.skip) {
        skipped.push({ name: `${spec.suite} › ${spec.name}`, reason: `${spec.skip.reason} (${spec.skip.where})` });
        continue;
      }
      const r = o.results[0];
      const reason = r?.error?.message ?? r?.assertions.filter((a) => !a.pass).map((a) => `${a.type}: ${a.reason}`).join('; ');
      const key = keyOf(spec.prompt.model, promptText(spec.request.messages));
      ours.set(key, [...(ours.get(key) ?? []), { pass: r?.status === 'passed', reason }]);
    }
    const result: Comparison = { compared: 0, agreed: 0, differences: [], skipped, unmatched: 0, promptfooErrored: [], ran: report!.outcomes.length - skipped.length };
    for (const v of verdicts) {
      const mapped = mapProvider(v.provider);
      const model = 'unsupported' in mapped ? v.provider : mapped.model;
      const key = keyOf(model, promptfooText(v.prompt));
      const mine = ours.get(key)?.shift();
      if (!mine) {
        result.unmatched++;
        continue;
      }
      if (v.errored) {
        result.promptfooErrored.push({ key, error: v.error });
        continue;
      }
      result.compared++;
      if (mine.pass === v.pass) result.agreed++;
      else result.differences.push({ key, promptgate: mine.pass, promptfoo: v.pass, reason: mine.pass ? v.error : mine.reason });
    }
    return result;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
