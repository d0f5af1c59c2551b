import * as vm from 'node:vm';
import { z } from 'zod';
import { runIsolated } from './isolate';
import { define, outcome } from './types';
import type { AssertionOutcome } from '../types/results';
import type { Transformed } from '../types/assertions';

/**
 * `value` is an expression over `output` and `context` (`output.includes('x')`), or a function body
 * with `return`. It is compiled here only to report a syntax error at its place in the file; it runs
 * in the isolated worker (./isolate.ts), with a time and a memory limit and no way to the host.
 */
function compile(source: string): string {
  const body = scriptBody(source);
  new vm.Script(`(function (output, context) {\n${body}\n})`, { filename: 'javascript-assertion.js' });
  return body;
}

/**
 * A script as a function body, read as promptfoo reads it: with `return`, as written; else an
 * expression (a trailing `;` dropped, `output.length > 3;`), or, when it is not one, statements.
 */
export function scriptBody(source: string): string {
  const s = source.trimEnd();
  if (/\breturn\b/.test(s)) return s;
  const expression = `return (${s.replace(/;+$/, '')}\n);`;
  try {
    new vm.Script(`(function (output, context) {\n${expression}\n})`);
    return expression;
  } catch {
    return s;
  }
}

/** A mock's script (over `args` and `call`) as a function body the isolate runs: `context` carries both. */
export function mockScriptBody(source: string): string {
  return `const args = context.args, call = context.call;\n${scriptBody(source)}`;
}

/** Why a mock's script does not compile, or undefined. */
export function checkMockScript(source: string): string | undefined {
  try {
    new vm.Script(`(function (output, context) {\n${mockScriptBody(source)}\n})`, { filename: 'mock.js' });
    return undefined;
  } catch (err) {
    return `javascript does not compile: ${(err as Error).message}`;
  }
}

/** Runs a mock's script (mockScriptBody) with its arguments: its value, or the error it ended with. */
export function runMockScript(body: string, args: unknown, call: number): { value: unknown } | { error: string } {
  return run(body, '', { args, call });
}

/** Runs a script on `output` (a structured one is parsed inside the sandbox) and `context`; what it returned, or the error it ended with. */
function run(source: string, output: string, context: unknown, structured = false): { value: unknown } | { error: string } {
  const answer = runIsolated({ kind: 'script', source, output, structured, context: JSON.stringify(context) ?? 'null' });
  if (!answer.ok) return { error: answer.error };
  if (answer.value.startsWith('s')) return { value: answer.value.slice(1) };
  const json = answer.value.slice(1);
  return { value: json === 'undefined' ? undefined : JSON.parse(json) };
}

export function interpret(result: unknown, threshold: number | undefined): AssertionOutcome {
  if (typeof result === 'boolean') return outcome(result, `script returned ${result}`);
  if (typeof result === 'number' && Number.isFinite(result)) {
    const pass = threshold !== undefined ? result >= threshold : result > 0;
    return outcome(pass, `script returned score ${result}${threshold !== undefined ? ` (threshold ${threshold})` : ''}`, Math.max(0, Math.min(1, result)));
  }
  if (result && typeof result === 'object' && typeof (result as { pass?: unknown }).pass === 'boolean') {
    const r = result as { pass: boolean; score?: number; reason?: string };
    return outcome(r.pass, r.reason ?? `script returned pass: ${r.pass}`, typeof r.score === 'number' ? r.score : r.pass ? 1 : 0);
  }
  return outcome(false, `script must return a boolean, a number or {pass, score, reason}; it returned ${JSON.stringify(result) ?? String(result)}`);
}

/**
 * An assertion's `transform`: an expression or function body over `output` and `context` whose result
 * the assertion checks instead of the output (a string as it is, anything else as JSON), as in promptfoo.
 * Compiling throws on a syntax error, so a bad transform is a located error at load time.
 */
export function compileTransform(sources: string | readonly string[]): (output: Transformed, context: unknown) => Transformed {
  const chain = (typeof sources === 'string' ? [sources] : [...sources]).map(compile);
  return (output, context) => {
    let current = output;
    for (const source of chain) {
      const r = run(source, current.text, context, current.structured);
      if ('error' in r) throw new Error(r.error);
      // Objects stay objects for the next step and for scripts; other assertions check their JSON.
      current = typeof r.value === 'string' ? { text: r.value, structured: false } : { text: JSON.stringify(r.value) ?? String(r.value), structured: r.value !== undefined };
    }
    return current;
  };
}

export const javascriptAssertions = [
  define<string, string>({
    id: 'javascript',
    kind: 'pure',
    description: 'a JavaScript expression or function body over `output` and `context` returns true, a score, or {pass, score, reason}',
    value: z.string().min(1),
    threshold: 'optional',
    compile,
    evaluate: ({ output, structured, compiled, context, threshold }) => {
      const r = run(compiled, output, context, structured);
      if ('error' in r) throw new Error(`script threw: ${r.error}`);
      return interpret(r.value, threshold);
    },
  }),
];
