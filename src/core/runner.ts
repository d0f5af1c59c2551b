import { setMaxListeners } from 'node:events';
import { Channel } from './channel';
import { combineResults, evaluateAssertion, evaluateModelAssertion, notJudged } from './assertions/registry';
import { estimateCost, type PriceTable } from './providers/pricing';
import { ProviderError, type Provider, type ProviderRequest, type Usage } from './providers/types';
import { recordedRun, runAgent, type AgentRun, type ModelAnswer } from './agent';
import { whole } from './formats/line-case';
import { requestKey, type ResponseStore } from './store';
import type { AssertionResult, CaseResult, ResponseSource, RunSummary, SamplePlan, Tally } from './types/results';
import type { AssertionContext, JudgeContext, PreparedAssertion } from './types/assertions';
import type { CaseSpec, PromptSpec } from './types/cases';
import type { Step } from './types/agent';
import type { RunEvent } from './types/events';

export interface RunOptions {
  runId: string;
  concurrency: number;
  /** Samples per case when no plan is given (each one a separate call and cache entry). */
  samples?: number;
  /** Per-case sampling; overrides `samples`. */
  plan?: (spec: CaseSpec) => SamplePlan;
  signal?: AbortSignal;
}

export interface RunDeps {
  providerFor(prompt: PromptSpec): Provider;
  /** Response cache; absent when caching is off or answers come from cassettes. */
  cache?: ResponseStore;
  prices: PriceTable;
  now(): number;
  /** A judge for a model-graded assertion; absent, such assertions error. */
  judge?(a: PreparedAssertion, signal: AbortSignal): JudgeContext;
  /** Judge only outputs whose deterministic assertions all passed (default true). */
  judgeOnlyIfDeterministicPass?: boolean;
}

const FATAL = new Set(['auth', 'quota']);

/** Runs cases × samples with a concurrency limit and yields what happens as it happens. */
export async function* runCases(cases: readonly CaseSpec[], options: RunOptions, deps: RunDeps): AsyncGenerator<RunEvent> {
  const fixed = Math.max(1, options.samples ?? 1);
  const planFor: (spec: CaseSpec) => SamplePlan = options.plan ?? (() => ({ initial: fixed }));
  const channel = new Channel<RunEvent>();
  const stop = new AbortController();
  // Every call in flight listens on this signal (and removes its listener when done).
  setMaxListeners(Math.max(10, 2 * options.concurrency + 10), stop.signal);
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  const startedMs = deps.now();
  const startedAt = new Date(startedMs).toISOString();
  const summary = new SummaryBuilder(options.runId, startedAt);
  const width = Math.max(1, options.concurrency);

  type Entry = { spec: CaseSpec; plan: SamplePlan; scheduled: number; finished: number; tally: Tally };
  type Job = { entry: Entry; sample: number };
  let outstanding = 0;
  for (const spec of cases) outstanding += Math.max(1, planFor(spec).initial);

  // Work is handed out by a cursor over the cases, so a run of any size holds only the cases in
  // flight (an entry is made when the cursor reaches its case and dropped with its last sample);
  // samples a plan adds later go first, to finish their case.
  const added: Job[] = [];
  let cursor = 0;
  let current: Entry | undefined;
  let cursorSample = 0;
  let abandoned = false;
  const nextJob = (): Job | undefined => {
    if (abandoned) return undefined;
    if (added.length) return added.shift();
    while (cursor < cases.length) {
      if (!current) {
        const spec = cases[cursor];
        const plan = planFor(spec);
        current = { spec, plan, scheduled: Math.max(1, plan.initial), finished: 0, tally: { passed: 0, total: 0 } };
      }
      // Its first samples; those its plan adds later come through `added`.
      if (cursorSample < Math.max(1, current.plan.initial)) return { entry: current, sample: cursorSample++ };
      cursor++;
      current = undefined;
      cursorSample = 0;
    }
    return undefined;
  };

  const finish = ({ entry }: Job, result: CaseResult) => {
    summary.add(result);
    channel.push({ type: 'case-finished', result, spec: entry.spec });
    entry.finished++;
    if (result.status === 'passed' || result.status === 'failed') {
      entry.tally.total++;
      if (result.status === 'passed') entry.tally.passed++;
    }
    if (entry.finished === entry.scheduled && entry.plan.next && !stop.signal.aborted) {
      const target = entry.plan.next(entry.scheduled, { ...entry.tally });
      if (target !== undefined && target > entry.scheduled) {
        channel.push({ type: 'samples-added', caseId: entry.spec.id, added: target - entry.scheduled });
        for (let s = entry.scheduled; s < target; s++) added.push({ entry, sample: s });
        outstanding += target - entry.scheduled;
        entry.scheduled = target;
        pump();
      }
    }
    if (--outstanding === 0) channel.close();
  };
  // A bug must not lose a case: it is reported as errored and the run goes on.
  const internal = ({ entry, sample }: Job, err: unknown): CaseResult => ({
    ...base(entry.spec, sample),
    status: 'errored',
    score: 0,
    assertions: [],
    error: { kind: 'internal', message: (err as Error).stack ?? String(err) },
  });

  /**
   * One sample of one case, inside a concurrency slot. The slot covers getting the answer (and
   * judging it, as judges are calls too); a case with only deterministic assertions frees its slot
   * as soon as the answer is in and is checked after the pending I/O has been served. Answers of
   * one round arrive together: checking each before the next request goes out would delay the last
   * of them by the whole round's CPU, and that delay would add up round after round.
   */
  const runJob = async (job: Job): Promise<void> => {
    const { entry, sample } = job;
    const emit = (e: RunEvent) => channel.push(e);
    let result: CaseResult;
    try {
      // A case file's case is built from its line for this sample only, and only to be run: a
      // skipped sample reads what the case holds. Built in here: were that to throw, the sample is
      // an internal error like any other, not a lost slot.
      const spec = entry.spec.skip || stop.signal.aborted ? entry.spec : whole(entry.spec);
      const got = spec.skip ? unsupported(spec, sample) : stop.signal.aborted ? skipped(spec, sample) : await obtain(spec, sample, stop.signal, deps, emit);
      if (!('response' in got) && got.error && FATAL.has(got.error.kind) && !stop.signal.aborted) {
        // A refused key or an account out of quota fails every call the same way: stop now, with
        // the reason, rather than fail every case one by one (or retry them for hours).
        channel.push({ type: 'run-stopped', reason: `${got.error.kind === 'quota' ? 'no quota left' : 'the API key was refused'}: ${got.error.message}` });
        stop.abort();
      }
      if (!('response' in got)) result = got;
      else if (spec.assertions.some((a) => a.definition.kind === 'model')) result = await assess(spec, sample, got, stop.signal, deps, emit);
      else {
        setImmediate(() => {
          assess(spec, sample, got, stop.signal, deps, emit)
            .catch((err: unknown) => internal(job, err))
            .then((r) => finish(job, r));
        });
        return;
      }
    } catch (err) {
      result = internal(job, err);
    }
    finish(job, result);
  };

  let active = 0;
  const worker = async () => {
    try {
      for (let job = nextJob(); job; job = nextJob()) await runJob(job);
    } finally {
      active--;
    }
  };
  const pump = () => {
    while (active < width && !abandoned && (added.length || cursor < cases.length)) {
      active++;
      void worker();
    }
  };

  yield { type: 'run-started', runId: options.runId, startedAt, total: outstanding, cases: cases.length };
  pump();
  if (outstanding === 0) channel.close();
  try {
    for await (const event of channel) yield event;
    yield { type: 'run-finished', summary: summary.build(deps.now() - startedMs) };
  } finally {
    // A consumer that stops early cancels whatever is still running, and nothing more starts.
    abandoned = true;
    stop.abort();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

interface Answer extends ModelAnswer {
  /** Agent cases: the whole run, turn by turn. */
  agent?: AgentRun;
}

/** The answer to one request, from the cache or the provider; throws a ProviderError when there is none. */
async function ask(spec: CaseSpec, request: ProviderRequest, sample: number, signal: AbortSignal, deps: RunDeps, emit: (e: RunEvent) => void): Promise<ModelAnswer> {
  const provider = deps.providerFor(spec.prompt);
  // Hashing the request is only for the cache; with it off (or cassettes answering) it is skipped.
  const key = deps.cache ? requestKey(request, sample) : '';
  const hit = deps.cache ? await deps.cache.get(key) : undefined;
  if (hit && hit.provider === provider.id) return { response: hit.response, latencyMs: hit.latencyMs, source: 'cache' };
  const t0 = deps.now();
  const response = await provider.complete(request, { signal, sample });
  const latencyMs = response.latencyMs ?? deps.now() - t0;
  const source: ResponseSource = provider.recorded ? 'replay' : 'live';
  if (deps.cache && source === 'live') {
    const { latencyMs: _recorded, retries: _retries, priceFactor: _price, ...clean } = response;
    try {
      await deps.cache.put({ key, provider: provider.id, sample, request, response: clean, latencyMs });
    } catch (err) {
      emit({ type: 'warning', message: `could not write the cache entry for ${spec.id}: ${(err as Error).message}` });
    }
  }
  return { response, source, latencyMs };
}

/** The answer to one sample (an agent case's whole run), or a final result when there is none. */
async function obtain(spec: CaseSpec, sample: number, signal: AbortSignal, deps: RunDeps, emit: (e: RunEvent) => void): Promise<Answer | CaseResult> {
  emit({ type: 'case-started', caseId: spec.id, sample });
  try {
    if (!spec.agent) return await ask(spec, spec.request, sample, signal, deps, emit);
    // --rejudge: the recorded steps are judged again; the loop does not run.
    const stored = deps.providerFor(spec.prompt).storedRun?.(spec.request, sample);
    if (stored?.steps) {
      const recorded = recordedRun({ ...stored, steps: stored.steps as Step[] });
      return { response: recorded.last, source: 'replay', latencyMs: recorded.latencyMs, agent: recorded };
    }
    const agent = await runAgent(spec.request, spec.agent, (request) => ask(spec, request, sample, signal, deps, emit));
    return { response: agent.last, source: agent.source, latencyMs: agent.latencyMs, agent };
  } catch (err) {
    const e = err instanceof ProviderError ? err : new ProviderError('network', (err as Error).message);
    if (e.kind === 'aborted' || signal.aborted) return skipped(spec, sample);
    const steps = (err as { steps?: Step[] }).steps;
    return { ...base(spec, sample), status: 'errored', score: 0, assertions: [], error: { kind: e.kind, message: e.message }, ...(steps ? { steps } : {}) };
  }
}

/** The tools a request declares: its `tools`, and the legacy API's `functions` sent as written. */
function declaredTools(spec: CaseSpec): AssertionContext['tools'] {
  const tools = spec.prompt.tools.map((t) => ({ name: t.function.name, parameters: t.function.parameters }));
  const functions = spec.request.functions;
  if (Array.isArray(functions)) for (const f of functions as { name?: unknown; parameters?: Record<string, unknown> }[]) if (typeof f?.name === 'string') tools.push({ name: f.name, parameters: f.parameters });
  return tools;
}

/** An agent sample's checks: the opening turn's, each scripted turn's on its own answer, then the case's on the last. */
function agentChecks(spec: CaseSpec, agent: AgentRun, context: AssertionContext): { a: PreparedAssertion; output: string; context: AssertionContext }[] {
  const checks: { a: PreparedAssertion; output: string; context: AssertionContext }[] = [];
  const opened = agent.turns[0];
  if (opened) for (const a of spec.agent?.opening ?? []) checks.push({ a, output: opened.response.output, context: { ...context, response: opened.response, steps: opened.steps } });
  spec.agent?.turns.forEach((t, i) => {
    const answered = agent.turns[i + 1];
    if (answered) for (const a of t.assertions) checks.push({ a, output: answered.response.output, context: { ...context, response: answered.response, question: t.message, steps: answered.steps } });
  });
  for (const a of spec.assertions) checks.push({ a, output: context.response.output, context });
  return checks;
}

/** Checks an answer against the case's assertions. */
async function assess(spec: CaseSpec, sample: number, answer: Answer, signal: AbortSignal, deps: RunDeps, emit: (e: RunEvent) => void): Promise<CaseResult> {
  const { response, source, latencyMs, agent } = answer;
  if (signal.aborted) return skipped(spec, sample);
  emit({ type: 'case-output', caseId: spec.id, sample, output: response.output, source, latencyMs });
  const usage = agent ? agent.usage : response.usage;
  const listed = estimateCost(deps.prices, spec.request.model, usage);
  // An answer from the Batch API costs its share of a call's price.
  const cost = listed !== undefined && !agent && response.priceFactor !== undefined ? listed * response.priceFactor : listed;
  const question = [...spec.request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const context: AssertionContext = {
    vars: spec.vars,
    response,
    latencyMs,
    cost,
    cached: source !== 'live',
    tools: declaredTools(spec),
    question,
    system: spec.request.messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => m.content).join('\n\n'),
    steps: agent?.steps,
  };
  // Agent cases: each scripted turn's assertions on that turn's answer, then the case's on the last.
  // A one-call case checks its own assertions on its answer, with nothing allocated per sample for it.
  const checks = agent && spec.agent ? agentChecks(spec, agent, context) : undefined;
  const n = checks ? checks.length : spec.assertions.length;
  const assertionAt = (i: number) => (checks ? checks[i].a : spec.assertions[i]);
  const outputAt = (i: number) => (checks ? checks[i].output : response.output);
  const contextAt = (i: number) => (checks ? checks[i].context : context);
  const results: AssertionResult[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const a = assertionAt(i);
    if (a.definition.kind === 'pure') results[i] = evaluateAssertion(a, outputAt(i), contextAt(i));
  }
  // The expensive layer only for outputs not already known to fail.
  const deterministicOk = results.every((r) => !r || r.pass) && !agent?.failure;
  for (let i = 0; i < n; i++) {
    const a = assertionAt(i);
    if (a.definition.kind !== 'model') continue;
    if (!deps.judge) results[i] = { ...notJudged(a), reason: 'no judge is configured for model-graded assertions', errored: true };
    else if (deps.judgeOnlyIfDeterministicPass !== false && !deterministicOk) results[i] = notJudged(a);
    else results[i] = await evaluateModelAssertion(a, outputAt(i), contextAt(i), deps.judge(a, signal));
  }
  // An agent run that did not finish fails the sample, with the reason.
  if (agent?.failure) results.push({ type: 'agent', pass: false, score: 0, weight: 1, reason: agent.failure });
  if (signal.aborted) return skipped(spec, sample);
  emit({ type: 'assertions', caseId: spec.id, sample, results });
  const failedJudge = results.find((r) => r.errored);
  const { pass, score } = combineResults(results, spec.threshold);
  // Fields added in place rather than spread over base(): V8's spread with added fields is its slow
  // path, and this object is made for every sample.
  const r = base(spec, sample) as CaseResult;
  r.error = failedJudge ? { kind: 'judge', message: `${failedJudge.type}: ${failedJudge.reason}` } : undefined;
  r.status = failedJudge ? 'errored' : pass && !agent?.failure ? 'passed' : 'failed';
  r.score = score;
  r.assertions = results;
  r.output = response.output;
  r.toolCalls = response.toolCalls.length ? response.toolCalls : undefined;
  if (agent) r.steps = agent.steps;
  r.finishReason = response.finishReason;
  r.source = source;
  r.servedModel = response.model;
  r.fingerprint = response.fingerprint;
  r.latencyMs = latencyMs;
  r.usage = usage;
  r.cost = cost;
  return r;
}

function base(spec: CaseSpec, sample: number) {
  return {
    caseId: spec.id,
    name: spec.name,
    suite: spec.suite,
    prompt: spec.prompt.relFile,
    promptVersionId: spec.prompt.versionId,
    file: spec.relFile,
    line: spec.range.start.line,
    sample,
  };
}

function skipped(spec: CaseSpec, sample: number): CaseResult {
  return { ...base(spec, sample), status: 'skipped', score: 0, assertions: [], error: { kind: 'aborted', message: 'cancelled before it finished' } };
}

function unsupported(spec: CaseSpec, sample: number): CaseResult {
  return { ...base(spec, sample), status: 'skipped', score: 0, assertions: [], error: { kind: 'unsupported', message: `${spec.skip!.reason} (${spec.skip!.where})` } };
}

/** Running totals, so a run of any size keeps no per-case data for its summary. */
export class SummaryBuilder {
  private counts = { total: 0, passed: 0, failed: 0, errored: 0, skipped: 0, hits: 0 };
  private tokens: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  private cost = 0;
  private liveLatency = { sum: 0, n: 0 };
  private metrics = new Map<string, { sum: number; count: number; passed: number }>();

  constructor(
    private readonly runId: string,
    private readonly startedAt: string,
  ) {}

  add(r: CaseResult): void {
    this.counts.total++;
    this.counts[r.status]++;
    if (r.source === 'cache' || r.source === 'replay') this.counts.hits++;
    if (r.usage && r.source === 'live') {
      this.tokens.promptTokens += r.usage.promptTokens;
      this.tokens.completionTokens += r.usage.completionTokens;
      this.tokens.totalTokens += r.usage.totalTokens;
    }
    if (r.cost !== undefined && r.source === 'live') this.cost += r.cost;
    if (r.source === 'live' && r.latencyMs !== undefined) {
      this.liveLatency.sum += r.latencyMs;
      this.liveLatency.n++;
    }
    for (const a of r.assertions) {
      if (!a.metric) continue;
      const m = this.metrics.get(a.metric) ?? { sum: 0, count: 0, passed: 0 };
      m.sum += a.score;
      m.count++;
      if (a.pass) m.passed++;
      this.metrics.set(a.metric, m);
    }
  }

  build(durationMs: number): RunSummary {
    return {
      runId: this.runId,
      startedAt: this.startedAt,
      durationMs,
      ...this.counts,
      tokens: { ...this.tokens },
      cost: this.cost,
      meanLiveLatencyMs: this.liveLatency.n ? this.liveLatency.sum / this.liveLatency.n : undefined,
      metrics: Object.fromEntries([...this.metrics].sort(([a], [b]) => a.localeCompare(b)).map(([k, m]) => [k, { score: m.sum / m.count, count: m.count, passed: m.passed }])),
    };
  }
}
