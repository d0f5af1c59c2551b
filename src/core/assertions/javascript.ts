import * as vm from 'node:vm';
import { z } from 'zod';
import { define, outcome, type AssertionOutcome } from './types';

const TIMEOUT_MS = 1000;

interface CompiledScript {
  script: vm.Script;
  sandbox: vm.Context;
}

/**
 * `value` is an expression over `output` and `context` (`output.includes('x')`), or a function body
 * with `return`. It runs in its own VM context with a time limit. This is the user's own code, as in
 * promptfoo; the VM keeps it from touching PromptGate's globals, it is not a security boundary.
 */
function compile(source: string): CompiledScript {
  const body = /\breturn\b/.test(source) ? source : `return (${source}\n);`;
  const script = new vm.Script(`(function (output, context) {\n${body}\n})(__output, __context)`, { filename: 'javascript-assertion.js' });
  const sandbox = vm.createContext({ JSON, Math, Number, String, Array, Object, RegExp, Date, Boolean, parseInt, parseFloat, isNaN });
  return { script, sandbox };
}

function interpret(result: unknown, threshold: number | undefined): AssertionOutcome {
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
export function compileTransform(source: string): (output: string, context: unknown) => string {
  const { script, sandbox } = compile(source);
  return (output, context) => {
    sandbox.__output = output;
    sandbox.__context = context;
    const result = script.runInContext(sandbox, { timeout: TIMEOUT_MS });
    return typeof result === 'string' ? result : (JSON.stringify(result) ?? String(result));
  };
}

export const javascriptAssertions = [
  define<string, CompiledScript>({
    id: 'javascript',
    kind: 'pure',
    description: 'a JavaScript expression or function body over `output` and `context` returns true, a score, or {pass, score, reason}',
    value: z.string().min(1),
    threshold: 'optional',
    compile,
    evaluate: ({ output, compiled, context, threshold }) => {
      compiled.sandbox.__output = output;
      compiled.sandbox.__context = context;
      try {
        return interpret(compiled.script.runInContext(compiled.sandbox, { timeout: TIMEOUT_MS }), threshold);
      } catch (err) {
        return outcome(false, `script threw: ${(err as Error).message}`);
      }
    },
  }),
];
