import { spawnSync } from 'node:child_process';
import { z } from 'zod';
import { define } from './types';
import { interpret } from './javascript';
import { caseDefinitions, type CaseSpec, type SuiteSpec } from '../types/cases';

/**
 * `python` assertions, as promptfoo runs them: an expression or function body over `output` and
 * `context`, or a function of a project file (`get_assert(output, context)` unless named), returning a
 * boolean, a score or {pass, score, reason}. Python cannot be confined as JavaScript is (see
 * ./isolate.ts): its code runs with the user's permissions, so it runs only when the user allows it
 * (`promptgate test --allow-python`) and python3 is on the PATH; otherwise the cases that use it are
 * skipped with the reason (pythonPolicy). Each check is one `python3 -I` process, with a time limit
 * and a 1 GB address-space limit; it blocks the run while it works (tens of milliseconds).
 */
export const PYTHON_TIMEOUT_MS = 10_000;

export type PythonValue = string | { file: string; source: string; function: string };

// Reads {code, module, fn, output, context} as JSON on stdin; writes the result as JSON on the last line.
const HARNESS = String.raw`
import json, sys
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
except Exception:
    pass
job = json.loads(sys.stdin.read())
output = json.loads(job["output"]) if job["structured"] else job["output"]
context = job["context"]
if job["module"] is not None:
    ns = {"__name__": "promptgate_assertion"}
    exec(compile(job["module"], job["file"], "exec"), ns)
    fn = ns.get(job["fn"])
    if not callable(fn):
        raise SystemExit("%s has no function %s" % (job["file"], job["fn"]))
    result = fn(output, context)
else:
    code = job["code"].strip("\n")
    lines = code.splitlines()
    if len(lines) == 1 and not lines[0].lstrip().startswith("return "):
        code = "return " + lines[0]
    src = "def __promptgate_assert(output, context):\n" + "\n".join("    " + l for l in code.splitlines())
    ns = {}
    exec(compile(src, "python-assertion", "exec"), ns)
    result = ns["__promptgate_assert"](output, context)
if isinstance(result, dict) and "pass_" in result and "pass" not in result:
    result["pass"] = result.pop("pass_")
sys.stdout.write("\n" + json.dumps(result, default=str))
`;

let found: boolean | undefined;
/** Whether python3 runs here (asked once). */
export function pythonAvailable(): boolean {
  found ??= spawnSync('python3', ['--version'], { timeout: 10_000, stdio: 'ignore' }).status === 0;
  return found;
}

function runPython(value: PythonValue, output: string, structured: boolean, context: unknown): unknown {
  const job = typeof value === 'string' ? { code: value, module: null, file: null, fn: null } : { code: null, module: value.source, file: value.file, fn: value.function };
  const r = spawnSync('python3', ['-I', '-c', HARNESS], {
    input: JSON.stringify({ ...job, output, structured, context }),
    timeout: PYTHON_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 4 * 1024 * 1024,
    encoding: 'utf8',
  });
  if (r.error) throw new Error((r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `python took more than ${PYTHON_TIMEOUT_MS / 1000} s` : r.error.message);
  if (r.status !== 0) {
    const lines = (r.stderr || '').trim().split('\n');
    throw new Error(`python: ${lines[lines.length - 1] || `exited with ${r.status ?? r.signal}`}`);
  }
  const last = r.stdout.slice(r.stdout.lastIndexOf('\n') + 1);
  return JSON.parse(last) as unknown;
}

export const pythonAssertions = [
  define<PythonValue>({
    id: 'python',
    kind: 'pure',
    description: 'Python (run by python3, only with --allow-python): an expression or function body over `output` and `context`, or {file, source, function}; returns true, a score, or {pass, score, reason}',
    value: z.union([z.string().min(1), z.object({ file: z.string(), source: z.string(), function: z.string().min(1) }).strict()]),
    threshold: 'optional',
    evaluate: ({ output, structured, value, context, threshold }) => interpret(runPython(value, output, !!structured, context), threshold),
  }),
];

/**
 * A project whose cases with python assertions run only when allowed and python3 is here; otherwise
 * those cases are skipped with the reason, at the case (in its suite too).
 */
export function pythonPolicy<P extends { suites: SuiteSpec[]; cases: CaseSpec[] }>(project: P, allowed: boolean): P {
  const uses = (k: CaseSpec) => !k.skip && caseDefinitions(k).some((d) => d.id === 'python');
  if (!project.cases.some(uses)) return project;
  const reason = !allowed
    ? 'python assertions run code with your permissions: PromptGate runs them only when allowed (promptgate test --allow-python; the promptgate.allowPython setting in a trusted workspace)'
    : !pythonAvailable()
      ? 'python assertions need python3, which is not on the PATH'
      : undefined;
  if (!reason) return project;
  const gated = new Map(project.cases.filter(uses).map((k) => [k, { ...k, skip: { reason, where: `${k.relFile}:${k.range.start.line + 1}:${k.range.start.character + 1}` } }]));
  const swap = (k: CaseSpec) => gated.get(k) ?? k;
  return { ...project, suites: project.suites.map((s) => ({ ...s, cases: s.cases.map(swap) })), cases: project.cases.map(swap) };
}
