import * as path from 'node:path';
import {
  attackReport,
  Baselines,
  Judge,
  makeJudge,
  makeProviders,
  StoredOutputsProvider,
  estimateRunCost,
  latestResults,
  withModel,
  blocksGate,
  caseOutcomes,
  countVerdicts,
  planCase,
  suitesWith,
  verdictsForRun,
  ResponseStore,
  RunRecorder,
  newRunId,
  priceTable,
  recorded,
  runCases,
  writeFileAtomic,
  ProviderError,
  type CaseResult,
  type CaseSpec,
  type PromptSpec,
  type Provider,
  type RunSummary,
} from '../core';
import { EXIT, colors, type CliIO } from './io';
import { loadForCli, printDiagnostics } from './load';
import { githubAnnotations } from './reporters/github';
import { jsonReport } from './reporters/json';
import { junitXml } from './reporters/junit';
import { markdownReport } from './reporters/markdown';
import { TextReporter } from './reporters/text';
import type { RunReport } from './reporters/types';

export interface TestOptions {
  suite?: string[];
  grep?: string;
  concurrency?: number;
  samples?: number | 'auto';
  cache: boolean;
  record?: boolean;
  replay?: boolean;
  rejudge?: boolean;
  model?: string;
  budget?: number;
  reporter: 'text' | 'json' | 'github' | 'markdown';
  junit?: string;
  json?: string;
  markdown?: string;
}

/** `promptgate test`: load, validate, run, report; returns the exit code. */
export async function testCommand(io: CliIO, paths: string[], opts: TestOptions, signal?: AbortSignal): Promise<number> {
  const c = colors(io);
  if (opts.record && opts.replay) {
    io.err(`${c.red('error')}: --record and --replay exclude each other\n`);
    return EXIT.invalid;
  }
  let grep: RegExp | undefined;
  if (opts.grep) {
    try {
      grep = new RegExp(opts.grep, 'i');
    } catch (err) {
      io.err(`${c.red('error')}: --grep: ${(err as Error).message}\n`);
      return EXIT.invalid;
    }
  }
  const loaded = await loadForCli(io, paths);
  if (!loaded.ok) {
    io.err(`${c.red('error')}: invalid files; nothing was run\n`);
    return EXIT.invalid;
  }
  const { config, project } = loaded;
  let cases: CaseSpec[] = project.cases;
  if (opts.suite?.length) {
    const known = new Set(project.suites.map((s) => s.name));
    const unknown = opts.suite.filter((s) => !known.has(s));
    if (unknown.length) {
      io.err(`${c.red('error')}: no suite named ${unknown.map((s) => `'${s}'`).join(', ')} (suites: ${[...known].join(', ') || 'none'})\n`);
      return EXIT.invalid;
    }
    cases = cases.filter((k) => opts.suite!.includes(k.suite));
  }
  if (grep) cases = cases.filter((k) => grep!.test(k.id) || grep!.test(k.name));
  if (!cases.length) {
    io.err(`${c.red('error')}: no cases to run${project.cases.length ? ' after filtering' : ` under ${paths.join(' ') || '.'}`}\n`);
    return EXIT.invalid;
  }

  const { baselines, diagnostics: baselineDiagnostics } = await Baselines.load(config.baselinesDir, suitesWith(project.suites, cases));
  printDiagnostics(io, baselineDiagnostics);
  if (baselineDiagnostics.some((d) => d.severity === 'error')) {
    io.err(`${c.red('error')}: invalid baseline files; fix them or approve again; nothing was run\n`);
    return EXIT.invalid;
  }

  if (opts.rejudge && (opts.record || opts.replay)) {
    io.err(`${c.red('error')}: --rejudge uses the outputs of the latest run; it goes with neither --record nor --replay\n`);
    return EXIT.invalid;
  }
  if (opts.model) cases = withModel(cases, opts.model);
  const mode: RunReport['mode'] = opts.replay ? 'replay' : opts.record ? 'record' : 'live';
  let providerFor: (p: PromptSpec) => Provider;
  let judge: Judge | undefined;
  let plan = (spec: CaseSpec) => planCase(spec, opts.samples, baselines, config.verdicts, config.sampling);
  try {
    if (opts.rejudge) {
      const stored = await storedOutputs(cases, config.runsDir);
      const provider = new StoredOutputsProvider(stored.entries);
      providerFor = () => provider;
      plan = (spec) => ({ initial: Math.max(1, stored.samples.get(spec.id) ?? 1) });
    } else {
      providerFor = makeProviders(cases, mode, config.cassettesDir, io);
    }
    if (cases.some((k) => k.assertions.some((a) => a.definition.kind === 'model'))) {
      judge = makeJudge(config, mode, io, opts.cache && mode === 'live' && !opts.rejudge, priceTable(config.prices));
    }
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    io.err(`${c.red('error')}: ${err.message}\n`);
    return EXIT.invalid;
  }

  const prices = priceTable(config.prices);
  const cache = opts.cache && mode === 'live' && !opts.rejudge ? new ResponseStore(config.cacheDir) : undefined;
  if (opts.budget !== undefined) {
    const estimate = await estimateRunCost(cases, plan, prices, cache, providerFor);
    if (estimate.unpriced.length) io.err(`${c.yellow('warning')}: no price for ${estimate.unpriced.join(', ')}: their cost is not in the estimate\n`);
    if (estimate.usd > opts.budget) {
      io.err(`${c.red('error')}: the run would cost about $${estimate.usd.toFixed(4)} (${estimate.calls} calls), over the --budget of $${opts.budget}; nothing was run\n`);
      return EXIT.invalid;
    }
  }

  const runId = newRunId(io.now());
  const recorder = new RunRecorder(config.runsDir, runId, { argv: paths, mode });
  await recorder.open();
  const text = new TextReporter(io, opts.reporter === 'text');
  const results = new Map<string, CaseResult[]>();
  let summary: RunSummary | undefined;
  // The budget stops a run cleanly: what is in flight is cancelled, the rest is skipped, reports are written.
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  signal?.addEventListener('abort', onOuterAbort, { once: true });
  let spent = 0;
  let budgetReached = false;
  const events = runCases(
    cases,
    { runId, concurrency: opts.concurrency ?? Math.min(config.concurrency, project.maxConcurrency ?? Infinity), plan, signal: stop.signal },
    {
      providerFor,
      cache,
      prices,
      now: io.now,
      judge: judge && ((a, s) => judge!.context(s, { samples: a.judgeSamples, model: a.judgeModel })),
      judgeOnlyIfDeterministicPass: config.judge.onlyIfDeterministicPass,
    },
  );
  let fatal: string | undefined;
  for await (const e of recorded(events, recorder)) {
    text.onEvent(e);
    if (e.type === 'run-stopped') fatal = e.reason;
    if (e.type === 'case-finished' && opts.budget !== undefined) {
      if (e.result.source === 'live') spent += e.result.cost ?? 0;
      if (spent + (judge?.spent.usd ?? 0) >= opts.budget && !budgetReached) {
        budgetReached = true;
        io.err(`${c.yellow('budget')}: $${(spent + (judge?.spent.usd ?? 0)).toFixed(4)} spent, the --budget of $${opts.budget} is reached; stopping\n`);
        stop.abort();
      }
    }
    if (e.type === 'case-finished') results.set(e.result.caseId, [...(results.get(e.result.caseId) ?? []), e.result]);
    if (e.type === 'run-finished') summary = e.summary;
  }
  if (!summary) throw new Error('the run ended without a summary');

  const display = (rel: string) => path.relative(io.cwd, path.join(project.root, rel)) || rel;
  // Suites that ran whole can report approved cases that are gone; a --grep run cannot tell.
  const completeSuites = new Set(grep ? [] : cases.map((k) => Baselines.key(k.prompt.relFile, k.suite)));
  const verdicts = verdictsForRun(cases, results, baselines, { override: opts.samples, policy: config.verdicts, sampling: config.sampling, completeSuites });
  const outcomes = caseOutcomes(cases, results, verdicts, baselines);
  const prompts = project.prompts.filter((p) => cases.some((k) => k.prompt === p));
  const report: RunReport = {
    summary,
    judge: judge && { ...judge.spent },
    prompts,
    outcomes,
    attacks: attackReport(outcomes, config.verdicts.alpha),
    removed: verdicts.filter((v) => v.kind === 'removed'),
    counts: countVerdicts(verdicts),
    gateFailed: verdicts.some(blocksGate),
    stopped: fatal ?? (signal?.aborted ? 'interrupted' : budgetReached ? `the --budget of $${opts.budget} was reached` : undefined),
    mode,
    display,
  };
  text.finish(report);
  if (opts.reporter === 'json') io.out(jsonReport(report));
  if (opts.reporter === 'github') io.out(githubAnnotations(report));
  if (opts.reporter === 'markdown') io.out(markdownReport(report));
  let writeFailed = false;
  for (const [file, render] of [
    [opts.junit, junitXml],
    [opts.json, jsonReport],
    [opts.markdown, markdownReport],
  ] as const) {
    if (!file) continue;
    try {
      await writeFileAtomic(path.resolve(io.cwd, file), render(report));
    } catch (err) {
      io.err(`${c.red('error')}: cannot write ${file}: ${(err as Error).message}\n`);
      writeFailed = true;
    }
  }
  io.err(c.dim(`run recorded in ${path.relative(io.cwd, recorder.file)}\n`));

  signal?.removeEventListener('abort', onOuterAbort);
  if (signal?.aborted) return EXIT.interrupted;
  if (writeFailed || fatal) return EXIT.invalid;
  if (budgetReached) return EXIT.failed;
  return report.gateFailed ? EXIT.failed : EXIT.ok;
}

/** The outputs of the latest recorded run of each case, for --rejudge. */
async function storedOutputs(cases: CaseSpec[], runsDir: string) {
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

