import * as path from 'node:path';
import {
  Baselines,
  RecordingProvider,
  blocksGate,
  caseOutcomes,
  countVerdicts,
  planCase,
  verdictsForRun,
  ReplayProvider,
  ResponseStore,
  RunRecorder,
  canonicalJson,
  createProvider,
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

  const { baselines, diagnostics: baselineDiagnostics } = await Baselines.load(config.baselinesDir, project.suites.filter((s) => s.cases.some((k) => cases.includes(k))));
  printDiagnostics(io, baselineDiagnostics);
  if (baselineDiagnostics.some((d) => d.severity === 'error')) {
    io.err(`${c.red('error')}: invalid baseline files; fix them or approve again; nothing was run\n`);
    return EXIT.invalid;
  }

  const mode: RunReport['mode'] = opts.replay ? 'replay' : opts.record ? 'record' : 'live';
  let providerFor: (p: PromptSpec) => Provider;
  try {
    providerFor = makeProviders(cases, mode, config.cassettesDir, io);
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    io.err(`${c.red('error')}: ${err.message}\n`);
    return EXIT.invalid;
  }

  const runId = newRunId(io.now());
  const recorder = new RunRecorder(config.runsDir, runId, { argv: paths, mode });
  await recorder.open();
  const text = new TextReporter(io, opts.reporter === 'text');
  const results = new Map<string, CaseResult[]>();
  let summary: RunSummary | undefined;
  const events = runCases(
    cases,
    { runId, concurrency: opts.concurrency ?? config.concurrency, plan: (spec) => planCase(spec, opts.samples, baselines, config.verdicts, config.sampling), signal },
    {
      providerFor,
      cache: opts.cache && mode === 'live' ? new ResponseStore(config.cacheDir) : undefined,
      prices: priceTable(config.prices),
      now: io.now,
    },
  );
  for await (const e of recorded(events, recorder)) {
    text.onEvent(e);
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
    prompts,
    outcomes,
    removed: verdicts.filter((v) => v.kind === 'removed'),
    counts: countVerdicts(verdicts),
    gateFailed: verdicts.some(blocksGate),
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

  if (signal?.aborted) return EXIT.interrupted;
  if (writeFailed) return EXIT.invalid;
  return report.gateFailed ? EXIT.failed : EXIT.ok;
}

/** One provider per distinct provider configuration, created before the run so that missing keys stop it early. */
function makeProviders(cases: CaseSpec[], mode: RunReport['mode'], cassettesDir: string, io: CliIO): (p: PromptSpec) => Provider {
  const cassettes = new ResponseStore(cassettesDir);
  if (mode === 'replay') {
    const replay = new ReplayProvider(cassettes);
    return () => replay;
  }
  const byOptions = new Map<string, Provider>();
  const byPrompt = new Map<PromptSpec, Provider>();
  for (const k of cases) {
    if (byPrompt.has(k.prompt)) continue;
    const key = canonicalJson(k.prompt.provider);
    let provider = byOptions.get(key);
    if (!provider) {
      provider = createProvider(k.prompt.provider, { env: io.env });
      if (mode === 'record') provider = new RecordingProvider(provider, cassettes, io.now);
      byOptions.set(key, provider);
    }
    byPrompt.set(k.prompt, provider);
  }
  return (p) => byPrompt.get(p)!;
}
