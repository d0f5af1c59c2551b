/**
 * Agent cases as the files write them: `mocks` (suite-wide, and per case by tool name), `maxSteps`
 * and `turns`. Everything is checked when the file loads: a mock names a declared tool, its
 * arguments are the tool's, its results match its `returns` schema, its script compiles; each turn's
 * message renders and its assertions are valid.
 */
import type { Diagnostic } from '../diagnostics';
import { compileSchema, schemaErrors } from '../assertions/json';
import { checkMockScript } from '../assertions/javascript';
import * as path from 'node:path';
import type { AssertionData, SuiteData } from '../schema';
import { TemplateError, renderTemplate } from '../template';
import type { PathSegment, YamlFile } from '../yamlfile';
import type { ChatMessage, ProviderRequest } from '../providers/types';
import { DEFAULT_MAX_STEPS, type MockAnswer, type ToolMock } from '../types/agent';
import type { AgentSpec } from '../types/cases';
import type { PreparedAssertion } from '../types/assertions';
import type { LoadedPrompt } from './loaded';
import { prepareAssertion } from './case';

type MockData = ToolMock & { returns?: Record<string, unknown> };

export interface AgentInput {
  /** Mocks by tool name with where each is written: the suite's, then the case's over them. */
  mocks: { name: string; mock: MockData; path: PathSegment[] }[];
  maxSteps?: number;
  turns?: { user: string; assert: AssertionData[] }[];
  turnsPath: PathSegment[];
}

/** The case's agent spec; undefined when it is not an agent case, null when something is wrong (reported). */
export function buildAgent(p: LoadedPrompt, yaml: YamlFile, input: AgentInput, vars: Record<string, unknown>, caseName: string, diagnostics: Diagnostic[]): AgentSpec | undefined | null {
  if (!input.mocks.length && !input.turns?.length) return undefined;
  const before = diagnostics.length;
  const err = (at: PathSegment[], message: string) => diagnostics.push({ file: yaml.file, range: yaml.rangeOf(at), message, severity: 'error', code: 'agent' });
  const tools = new Map(p.spec.tools.map((t) => [t.function.name, t.function.parameters]));
  const mocks: Record<string, ToolMock> = {};
  for (const { name, mock, path: at } of input.mocks) {
    if (!tools.has(name)) {
      err(at, `mock '${name}' names no tool of ${p.spec.relFile} (${tools.size ? `its tools: ${[...tools.keys()].join(', ')}` : 'it declares none: add tools to the prompt'})`);
      continue;
    }
    if (mock.result === undefined && !mock.fail && !mock.when && !mock.sequence && !mock.javascript) {
      err(at, `mock '${name}' gives no answer: add result, fail, when, sequence or javascript`);
      continue;
    }
    // Arguments in `when` are the tool's own parameters.
    const params = Object.keys(((tools.get(name) ?? {}) as { properties?: Record<string, unknown> }).properties ?? {});
    mock.when?.forEach((w, i) => {
      for (const k of Object.keys(w.args)) if (params.length && !params.includes(k)) err([...at, 'when', i, 'args', k], `'${k}' is not a parameter of ${name} (its parameters: ${params.join(', ')})`);
    });
    if (mock.javascript && !mock.javascript.startsWith('file://')) {
      // (A file:// script that could not be read is reported by readMockScripts.)
      const problem = checkMockScript(mock.javascript);
      if (problem) err([...at, 'javascript'], `mock '${name}': ${problem}`);
    }
    if (mock.returns) {
      let validate: ReturnType<typeof compileSchema> | undefined;
      try {
        validate = compileSchema(mock.returns);
      } catch (e) {
        err([...at, 'returns'], `mock '${name}': ${(e as Error).message}`);
      }
      const check = (answer: MockAnswer, where: PathSegment[]) => {
        if (validate && answer.result !== undefined && !validate(answer.result)) err([...where, 'result'], `mock '${name}': this result does not match its returns schema: ${schemaErrors(validate)}`);
      };
      check(mock, at);
      mock.when?.forEach((w, i) => check(w, [...at, 'when', i]));
      mock.sequence?.forEach((s, i) => check(s, [...at, 'sequence', i]));
    }
    const { returns: _schema, ...answers } = mock;
    mocks[name] = answers;
  }
  const turns: AgentSpec['turns'] = [];
  input.turns?.forEach((t, i) => {
    const at: PathSegment[] = [...input.turnsPath, i];
    let message = t.user;
    try {
      message = renderTemplate(t.user, vars, p.dialect);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      err([...at, 'user'], `${e.message} (case '${caseName}')`);
    }
    const assertions: PreparedAssertion[] = [];
    t.assert.forEach((a, j) => {
      const prepared = prepareAssertion(a, vars, p.dialect, (sub, m) => err([...at, 'assert', j, ...sub], m));
      if (prepared) assertions.push(prepared);
    });
    turns.push({ message, assertions });
  });
  if (diagnostics.length > before) return null;
  return { mocks, maxSteps: input.maxSteps ?? DEFAULT_MAX_STEPS, turns };
}

/** The case's request with its earlier conversation after the prompt's leading system messages; null when a message does not render (reported). */
export function withHistory(p: LoadedPrompt, yaml: YamlFile, request: ProviderRequest, history: { role: 'user' | 'assistant'; content: string }[], at: PathSegment[], vars: Record<string, unknown>, diagnostics: Diagnostic[]): ProviderRequest | null {
  const rendered: ChatMessage[] = [];
  for (const [i, m] of history.entries()) {
    try {
      rendered.push({ role: m.role, content: renderTemplate(m.content, vars, p.dialect) });
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      diagnostics.push({ file: yaml.file, range: yaml.rangeOf([...at, i, 'content']), message: e.message, severity: 'error', code: 'template' });
      return null;
    }
  }
  const lead = request.messages.findIndex((m) => m.role !== 'system' && m.role !== 'developer');
  const cut = lead < 0 ? request.messages.length : lead;
  return { ...request, messages: [...request.messages.slice(0, cut), ...rendered, ...request.messages.slice(cut)] };
}

/**
 * Mock scripts kept in the project (`javascript: file://mocks/lookup.js`, the file holding what the
 * inline value would: an expression or a function body over `args` and `call`), read in place
 * through the project's reader, so they stay inside the project; an unreadable one is a located error.
 */
export async function readMockScripts(data: SuiteData, yaml: YamlFile, base: PathSegment[], read: (file: string) => Promise<string>, diagnostics: Diagnostic[]): Promise<void> {
  const visit = async (mocks: SuiteData['mocks'], at: PathSegment[]) => {
    for (const [name, mock] of Object.entries(mocks ?? {})) {
      const ref = mock.javascript?.startsWith('file://') ? mock.javascript.slice('file://'.length) : undefined;
      if (!ref) continue;
      try {
        mock.javascript = await read(path.resolve(path.dirname(yaml.file), ref));
      } catch (e) {
        diagnostics.push({ file: yaml.file, range: yaml.rangeOf([...at, name, 'javascript']), message: `mock '${name}': cannot read ${ref}: ${(e as Error).message}`, severity: 'error', code: 'agent' });
      }
    }
  };
  await visit(data.mocks, [...base, 'mocks']);
  for (const [i, c] of data.cases.entries()) await visit(c.mocks, [...base, 'cases', i, 'mocks']);
}
