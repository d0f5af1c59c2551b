import type * as WorkerThreads from 'node:worker_threads';

/**
 * Where the user's code and patterns run: javascript assertions, transforms and regexes, which come
 * from project files and may loop, exit, exhaust memory or backtrack for hours. They run in a worker
 * thread, each script in a VM context of its own whose global has no prototype and no host object
 * (only strings cross over), with code generation from strings turned off, so neither `process` nor
 * `require` nor the Function constructor is reachable. The worker has a memory limit; the caller
 * waits for it synchronously with a time limit and, past it, terminates the worker and starts
 * another for the next job. What this does not protect against is written in docs/security.md.
 */

/** Time one script or regex may take. */
export const ISOLATE_TIMEOUT_MS = 1000;
/** Old-generation heap of the worker, in MB. */
export const ISOLATE_MEMORY_MB = 128;
// Starting a worker takes tens of milliseconds, seconds on a busy machine: not counted as the job's time.
const START_TIMEOUT_MS = 60_000;

export type IsolatedJob =
  /** `structured`: `output` is JSON, parsed inside the sandbox (never in the worker's own realm). */
  | { kind: 'script'; source: string; output: string; structured?: boolean; context: string }
  /* For scripts, `source` is a function body (see scriptBody in ./javascript.ts). */
  | { kind: 'regex'; source: string; flags: string; output: string };

/** A script's result as `s` + a string, or `j` + its JSON; a regex's as `t` or `f`. */
export type IsolatedAnswer = { ok: true; value: string } | { ok: false; error: string };

// The worker's own code. Scripts are wrapped so that what crosses back is a primitive string made
// inside the timed run: a result's getters or toJSON can loop only within the time limit.
const WORKER_SOURCE = String.raw`
const { workerData } = require('node:worker_threads');
const vm = require('node:vm');
const flag = new Int32Array(workerData.flag);
const port = workerData.port;
const scripts = new Map();
function script(source) {
  let entry = scripts.get(source);
  if (!entry) {
    const code = '(function () { const __r = (function (output, context) {\n' + source + '\n}).call(undefined, __structured ? JSON.parse(__output) : __output, JSON.parse(__context));' +
      ' return typeof __r === "string" ? "s" + __r : "j" + JSON.stringify(__r); })()';
    const context = vm.createContext(Object.create(null), { codeGeneration: { strings: false, wasm: false } });
    entry = { script: new vm.Script(code, { filename: 'javascript-assertion.js' }), context };
    if (scripts.size > 1000) scripts.clear();
    scripts.set(source, entry);
  }
  return entry;
}
const regexes = new Map();
port.on('message', (job) => {
  let answer;
  try {
    if (job.kind === 'regex') {
      const key = job.flags + '/' + job.source;
      let re = regexes.get(key);
      if (!re) {
        re = new RegExp(job.source, job.flags);
        if (regexes.size > 1000) regexes.clear();
        regexes.set(key, re);
      }
      re.lastIndex = 0;
      answer = { ok: true, value: re.test(job.output) ? 't' : 'f' };
    } else {
      const entry = script(job.source);
      entry.context.__output = job.output;
      entry.context.__structured = job.structured === true;
      entry.context.__context = job.context;
      const value = entry.script.runInContext(entry.context, { timeout: ${ISOLATE_TIMEOUT_MS} });
      answer = { ok: true, value: String(value) };
    }
  } catch (err) {
    let message;
    try { message = String(err && err.message !== undefined ? err.message : err); } catch { message = 'an error that cannot be shown'; }
    answer = { ok: false, error: message };
  }
  port.postMessage(answer);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
Atomics.store(flag, 1, 1);
Atomics.notify(flag, 1);
`;

interface Running {
  worker: WorkerThreads.Worker;
  port: WorkerThreads.MessagePort;
  flag: Int32Array;
}

let running: Running | undefined;

function start(): Running {
  const threads = require('node:worker_threads') as typeof WorkerThreads;
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new threads.MessageChannel();
  const worker = new threads.Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { flag: flag.buffer, port: port2 },
    transferList: [port2],
    resourceLimits: { maxOldGenerationSizeMb: ISOLATE_MEMORY_MB, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
    env: {},
    stdout: true,
    stderr: true,
  });
  // Never keeps the process alive, and its end (killed, out of memory) is the caller's to see.
  worker.unref();
  port1.unref();
  worker.on('error', () => undefined);
  if (Atomics.wait(flag, 1, 0, START_TIMEOUT_MS) === 'timed-out') {
    void worker.terminate();
    throw new Error(`the isolated worker for scripts did not start within ${START_TIMEOUT_MS / 1000} s`);
  }
  return { worker, port: port1, flag };
}

/** Runs one job in the isolated worker and waits for it, at most the time limit. */
export function runIsolated(job: IsolatedJob): IsolatedAnswer {
  const threads = require('node:worker_threads') as typeof WorkerThreads;
  const r = (running ??= start());
  Atomics.store(r.flag, 0, 0);
  r.port.postMessage(job);
  // The worker's own VM timeout ends a script; this one ends a regex, or a worker that died.
  const waited = Atomics.wait(r.flag, 0, 0, ISOLATE_TIMEOUT_MS + (job.kind === 'script' ? 1000 : 0));
  const reply = waited === 'timed-out' ? undefined : threads.receiveMessageOnPort(r.port);
  if (!reply) {
    running = undefined;
    void r.worker.terminate();
    const what = job.kind === 'regex' ? 'the regex' : 'the script';
    return { ok: false, error: `${what} did not finish within ${ISOLATE_TIMEOUT_MS} ms, or used more than ${ISOLATE_MEMORY_MB} MB` };
  }
  return reply.message as IsolatedAnswer;
}
