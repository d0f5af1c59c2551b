import type { ResolvedConfig } from '../config';
import { formatDiagnostic } from '../diagnostics';
import * as path from 'node:path';
import type { Judge } from '../judge';
import type { BatchInfo } from '../providers/batch';
import type { Project } from '../project';
import { makeJudge, makeProviders } from './compose';
import { priceTable } from '../providers/pricing';
import { StoredOutputsProvider } from '../providers/stored';
import { ProviderError, type Provider } from '../providers/types';
import { runCases } from '../runner';
import { latestResults, newRunId, recorded, RunRecorder } from '../runs';
import { ResponseStore } from '../store';
import { estimateRunCost, withModel } from '../variants';
import { Baselines, effectiveSamples, planCase, suitesWith } from '../evaluate';
import { judgeRun } from './report';
import { assignShards, caseWeights } from './shard';
import { FULL_RESULTS, ResultTrimmer } from './trim';
import { runSettings, type RunOverrides } from './settings';
import type { CaseResult, RunSummary, SamplePlan } from '../types/results';
import { caseDefinitions, type CaseSpec, type PromptSpec } from '../types/cases';
import type { CostEstimate, RunMode, RunReport, Shard, ShardInfo } from '../types/report';
import type { SessionEvent } from '../types/events';

/** One run, as an adapter asks for it: which cases, from where answers come, and what overrides the files. */
export interface RunRequest {
  project: Project;
  config: ResolvedConfig;
  /** The cases to run, after the adapter's filters. A suite whose every case is here ran whole. */
  cases: readonly CaseSpec[];
  /** `live` (with the cache when `cache` is set), `replay` from cassettes, `record` into them. */
  mode: RunMode;
  /** Grade the outputs of the latest recorded run again instead of calling the model. */
  rejudge?: boolean;
  cache: boolean;
  /** Overrides in precedence order (the first that sets a value wins), then the files. */
  overrides?: RunOverrides[];
  /** USD: a run estimated above this is refused unless `ports.overBudget` says to go on; a run that spends it stops. */
  budget?: number;
  /**
   * This run is to become the baseline (approve's top-up, "Run and approve as baseline"): cases
   * are sampled until `baselineSettled`, whatever baseline they have now.
   */
  asBaseline?: boolean;
  /** Send the run's first calls through the provider's Batch API; the first wait between polls. */
  batch?: { pollMs: number };
  /** Run one slice of the cases (`--shard i/n`); sampling is planned over all of them, as in a single run. */
  shard?: Shard;
  /** Samples held whole in memory (default FULL_RESULTS); past them passing samples are held trimmed. */
  fullResults?: number;
  /** Kept in the run record's first line (argv, where the run came from). */
  meta?: Record<string, unknown>;
  signal?: AbortSignal;
}

/** Everything a session reads from outside the project files: the host gives it. */
export interface SessionPorts {
  env: Record<string, string | undefined>;
  now(): number;
  /** Progress worth saying while nothing else happens (a batch's status as it is polled). */
  notice?(message: string): void;
  /** Asked when the estimate is above the budget: true runs anyway, without a limit. Absent: refused. */
  overBudget?(estimate: CostEstimate, budget: number): Promise<boolean>;
}

/**
 * The one run pipeline of the CLI and the editor: settings precedence, provider and judge
 * composition, planning, the cache, the budget (estimate and mid-run stop), the run record,
 * verdicts, outcomes and the gate. It never prints; adapters turn its events into what they show.
 */
export async function* runSession(request: RunRequest, ports: SessionPorts): AsyncGenerator<SessionEvent> {
  const { config, project } = request;
  const settings = runSettings(config, project, ...(request.overrides ?? []));
  let cases: CaseSpec[];
  try {
    cases = settings.model ? withModel(request.cases, settings.model) : [...request.cases];
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    yield { type: 'not-run', reason: { kind: 'provider', message: err.message } };
    return;
  }
  const { baselines, diagnostics } = await Baselines.load(config.baselinesDir, suitesWith(project.suites, request.cases));
  for (const d of diagnostics.filter((x) => x.severity !== 'error')) yield { type: 'warning', message: formatDiagnostic(d) };
  if (diagnostics.some((d) => d.severity === 'error')) {
    yield { type: 'not-run', reason: { kind: 'baselines', diagnostics } };
    return;
  }

  const mode = request.mode;
  const cached = request.cache && mode === 'live' && !request.rejudge;
  const prices = priceTable(config.prices);
  let providerFor: (p: PromptSpec) => Provider;
  let judge: Judge | undefined;
  const family = cases.filter((k) => !k.skip && baselines.tally(k)).length;
  let shard: ShardInfo | undefined;
  if (request.shard) {
    const { slices, plan } = assignShards(cases, request.shard.count, await caseWeights(config.runsDir, cases));
    shard = { ...request.shard, cases: cases.length, plan };
    cases = slices[request.shard.index - 1];
  }
  // A case PromptGate cannot run is reported once as skipped, never sampled.
  // Cases without a baseline that sample alike share one plan (a plan holds closures: a few hundred
  // bytes each, a tenth of a 100,000-case run's memory when every case had its own).
  const alike = new Map<string, SamplePlan>();
  const planOf = (spec: CaseSpec): SamplePlan => planCase(spec, settings.samples, baselines, config.verdicts, config.sampling, { family, asBaseline: request.asBaseline });
  let plan = (spec: CaseSpec): SamplePlan => {
    if (spec.skip) return { initial: 1 };
    if (request.asBaseline || baselines.tally(spec)) return planOf(spec);
    const key = `${String(effectiveSamples(spec, settings.samples))}:${spec.passRate}`;
    let p = alike.get(key);
    if (!p) alike.set(key, (p = planOf(spec)));
    return p;
  };
  const deps = { env: ports.env, now: ports.now, baseURL: settings.baseURL };
  try {
    if (request.rejudge) {
      const stored = await storedOutputs(cases, config.runsDir);
      const provider = new StoredOutputsProvider(stored.entries);
      providerFor = () => provider;
      plan = (spec) => ({ initial: Math.max(1, stored.samples.get(spec.id) ?? 1) });
    } else {
      if (request.batch && mode !== 'live') throw new ProviderError('config', `--batch sends live calls; it goes with neither --replay nor --record`);
      const batch = request.batch && {
        dir: path.join(path.dirname(config.runsDir), 'batches'),
        pollMs: request.batch.pollMs,
        now: ports.now,
        samples: (spec: CaseSpec) => plan(spec).initial,
        onStatus: (b: BatchInfo) => ports.notice?.(`batch ${b.id}: ${b.status}${b.counts ? ` (${b.counts.completed}/${b.counts.total} done${b.counts.failed ? `, ${b.counts.failed} failed` : ''})` : ''}`),
      };
      providerFor = makeProviders(cases, mode, config.cassettesDir, deps, batch);
    }
    if (cases.some((k) => caseDefinitions(k).some((d) => d.kind === 'model'))) judge = makeJudge(config, mode, deps, cached, prices);
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    yield { type: 'not-run', reason: { kind: 'provider', message: err.message } };
    return;
  }

  const cache = cached ? new ResponseStore(config.cacheDir) : undefined;
  let budget = request.budget;
  let estimate: CostEstimate | undefined;
  if (budget !== undefined) {
    estimate = await estimateRunCost(cases, plan, prices, cache, providerFor);
    if (estimate.unpriced.length) yield { type: 'warning', message: `no price for ${estimate.unpriced.join(', ')}: their cost is not in the estimate` };
    if (estimate.usd > budget) {
      if (!(await ports.overBudget?.(estimate, budget))) {
        yield { type: 'not-run', reason: { kind: 'over-budget', estimate, budget } };
        return;
      }
      budget = undefined; // the user accepted this estimate
    }
  }

  const runId = newRunId(ports.now());
  const recorder = new RunRecorder(config.runsDir, runId, { ...request.meta, mode, ...(settings.model ? { model: settings.model } : {}), ...(shard ? { shard } : {}) });
  await recorder.open();
  yield { type: 'planned', runId, cases, settings, estimate, recordFile: recorder.file };

  // The budget stops a run cleanly: what is in flight is cancelled, the rest is skipped, reports are written.
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  request.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (request.signal?.aborted) stop.abort();
  const results = new Map<string, CaseResult[]>();
  let summary: RunSummary | undefined;
  let fatal: string | undefined;
  let spent = 0;
  let seen = 0;
  let trimmedCount = 0;
  const trimmer = new ResultTrimmer();
  let budgetReached = false;
  try {
    const events = runCases(
      cases,
      // A batch holds every first call at once: they must all be asked before any is answered.
      { runId, concurrency: request.batch ? Math.max(settings.concurrency, cases.reduce((n, c) => n + plan(c).initial, 0)) : settings.concurrency, plan, signal: stop.signal },
      {
        providerFor,
        cache,
        prices,
        now: ports.now,
        judge: judge && ((a, s) => judge!.context(s, { samples: a.judgeSamples, model: a.judgeModel })),
        judgeOnlyIfDeterministicPass: config.judge.onlyIfDeterministicPass,
      },
    );
    for await (const e of recorded(events, recorder)) {
      if (e.type === 'run-finished') {
        summary = e.summary;
        continue;
      }
      yield e;
      if (e.type === 'run-stopped') fatal = e.reason;
      if (e.type !== 'case-finished') continue;
      let kept = e.result;
      if (++seen > (request.fullResults ?? FULL_RESULTS) && e.result.status === 'passed') {
        // The recorder wrote the sample whole; a passing one keeps what verdicts and summaries read.
        // The answer of a case with a baseline stays: its first one is compared with the baseline's.
        kept = trimmer.trim(e.result, !!baselines.forCase(e.spec));
        trimmedCount++;
      }
      // A case's first sample starts an array of one: an empty array grown by push keeps room for
      // seventeen (about 150 bytes), and most cases of a large run have one sample.
      const held = results.get(e.result.caseId);
      if (held) held.push(kept);
      else results.set(e.result.caseId, [kept]);
      if (budget === undefined) continue;
      if (e.result.source === 'live') spent += e.result.cost ?? 0;
      const total = spent + (judge?.spent.usd ?? 0);
      if (total >= budget && !budgetReached) {
        budgetReached = true;
        yield { type: 'budget-reached', spentUsd: total, budget };
        stop.abort();
      }
    }
  } finally {
    request.signal?.removeEventListener('abort', onOuterAbort);
  }
  if (!summary) throw new Error('the run ended without a summary');

  const stopped: RunReport['stopped'] = fatal
    ? { kind: 'fatal', reason: fatal }
    : request.signal?.aborted
      ? { kind: 'interrupted', reason: 'interrupted' }
      : budgetReached
        ? { kind: 'budget', reason: `the budget of $${budget} was reached` }
        : undefined;
  const report = judgeRun({ project, config, cases, results, baselines, samples: settings.samples, summary, mode, stopped, judge: judge && { ...judge.spent } });
  report.recordFile = recorder.file;
  if (trimmedCount) report.trimmed = trimmedCount;
  for (const outcome of report.outcomes) yield { type: 'case-verdict', outcome };
  for (const s of report.suites) yield { type: 'suite-finished', ...s };
  if (report.attacks.length) yield { type: 'attack-report', attacks: report.attacks };
  yield { type: 'run-finished', summary, report };
}

/** The outputs of the latest recorded run of each case, for a rejudge. */
async function storedOutputs(cases: readonly CaseSpec[], runsDir: string) {
  const latest = await latestResults(runsDir, new Set(cases.map((k) => k.id)));
  const entries: { request: CaseSpec['request']; result: CaseResult }[] = [];
  const samples = new Map<string, number>();
  for (const k of cases) {
    const rs = (latest.get(k.id) ?? []).filter((r) => r.output !== undefined && r.promptVersionId === k.prompt.versionId);
    for (const r of rs) entries.push({ request: k.request, result: r });
    samples.set(k.id, rs.length ? Math.max(...rs.map((r) => r.sample)) + 1 : 1);
  }
  return { entries, samples };
}
