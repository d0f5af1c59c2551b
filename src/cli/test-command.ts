import * as path from 'node:path';
import { parseShard, pythonPolicy, runHistory, runSession, RunTracer, tracesEndpoint, writeFileAtomic, type CaseSpec, type RunReport as SessionReport, type Shard } from '../core';
import { EXIT, colors, type CliIO } from './io';
import { loadForCli, printDiagnostics } from './load';
import { githubAnnotations } from './reporters/github';
import { htmlReport } from './reporters/html';
import { jsonReport, jsonReportChunks } from './reporters/json';
import { junitXml } from './reporters/junit';
import { markdownReport } from './reporters/markdown';
import { TextReporter } from './reporters/text';
import type { RunReport } from './reporters/types';

/**
 * The reporters: each renders a finished run as text; `stdout` names it for --reporter, `file` is
 * the flag that writes it to a file. Adding a reporter is one entry here (and its option in main.ts).
 */
export const REPORTERS: readonly { stdout?: TestOptions['reporter']; file?: ReportFiles; render(report: RunReport): string }[] = [
  { stdout: 'json', file: 'json', render: jsonReport },
  { stdout: 'github', render: githubAnnotations },
  { stdout: 'markdown', file: 'markdown', render: markdownReport },
  { file: 'junit', render: junitXml },
  { file: 'html', render: htmlReport },
];

type ReportFiles = 'junit' | 'json' | 'markdown' | 'html';

/**
 * Writes the report files asked for (`--json FILE`…), each atomically; the HTML report gets the
 * history of the recorded runs. False when one could not be written (said on stderr).
 */
export async function writeReports(io: CliIO, report: RunReport, files: Partial<Record<ReportFiles, string>>, runsDir: string): Promise<boolean> {
  const c = colors(io);
  let ok = true;
  const full = files.html ? { ...report, history: await runHistory(runsDir) } : report;
  for (const r of REPORTERS) {
    const file = r.file && files[r.file];
    if (!file) continue;
    try {
      // The JSON report in pieces: a large run's answers come from its run record (jsonReportChunks).
      await writeFileAtomic(path.resolve(io.cwd, file), r.file === 'json' ? jsonReportChunks(full) : r.render(full));
    } catch (err) {
      io.err(`${c.red('error')}: cannot write ${file}: ${(err as Error).message}\n`);
      ok = false;
    }
  }
  return ok;
}

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
  allowPython?: boolean;
  reporter: 'text' | 'json' | 'github' | 'markdown';
  junit?: string;
  json?: string;
  markdown?: string;
  html?: string;
  shard?: string;
  otel?: string | boolean;
  batch?: boolean;
  batchPoll?: number;
}

/** `promptgate test`: load, validate, run, report; returns the exit code. */
export async function testCommand(io: CliIO, paths: string[], opts: TestOptions, signal?: AbortSignal): Promise<number> {
  const c = colors(io);
  if (opts.record && opts.replay) {
    io.err(`${c.red('error')}: --record and --replay exclude each other\n`);
    return EXIT.invalid;
  }
  let shard: Shard | undefined;
  if (opts.shard !== undefined) {
    const parsed = parseShard(opts.shard);
    if (typeof parsed === 'string') {
      io.err(`${c.red('error')}: ${parsed}\n`);
      return EXIT.invalid;
    }
    shard = parsed;
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
  const { config } = loaded;
  const project = pythonPolicy(loaded.project, !!opts.allowPython);
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
  if (!cases.length && !project.cases.length && project.prompts.length) {
    // Prompts without cases (a GitHub Models file without testData): nothing to run, as gh-models says too.
    io.err(`${project.prompts.length} prompt${project.prompts.length === 1 ? '' : 's'} and no cases: nothing to run\n`);
    return EXIT.ok;
  }
  if (!cases.length) {
    io.err(`${c.red('error')}: no cases to run${project.cases.length ? ' after filtering' : ` under ${paths.join(' ') || '.'}`}\n`);
    return EXIT.invalid;
  }

  if (opts.rejudge && (opts.record || opts.replay)) {
    io.err(`${c.red('error')}: --rejudge uses the outputs of the latest run; it goes with neither --record nor --replay\n`);
    return EXIT.invalid;
  }
  const mode = opts.replay ? 'replay' : opts.record ? 'record' : 'live';
  const text = new TextReporter(io, opts.reporter === 'text');
  let report: SessionReport | undefined;
  let recordFile: string | undefined;
  const traces = tracesEndpoint(io.env, opts.otel);
  const tracer = traces ? new RunTracer(traces, io.env, io.now) : undefined;
  const session = runSession(
    {
      project,
      config,
      cases,
      mode,
      rejudge: opts.rejudge,
      cache: opts.cache,
      overrides: [{ samples: opts.samples, concurrency: opts.concurrency, model: opts.model }],
      budget: opts.budget,
      shard,
      ...(opts.batch ? { batch: { pollMs: (opts.batchPoll ?? 5) * 1000 } } : {}),
      meta: { argv: paths },
      signal,
    },
    { env: io.env, now: io.now, notice: (m) => io.err(c.dim(`${m}\n`)) },
  );
  for await (const e of session) {
    text.onEvent(e);
    tracer?.onEvent(e);
    if (e.type === 'not-run') {
      const r = e.reason;
      if (r.kind === 'baselines') {
        printDiagnostics(io, r.diagnostics);
        io.err(`${c.red('error')}: invalid baseline files; fix them or approve again; nothing was run\n`);
      } else if (r.kind === 'provider') io.err(`${c.red('error')}: ${r.message}\n`);
      else io.err(`${c.red('error')}: the run would cost about $${r.estimate.usd.toFixed(4)} (${r.estimate.calls} calls), over the --budget of $${r.budget}; nothing was run\n`);
      return EXIT.invalid;
    }
    if (e.type === 'planned') recordFile = e.recordFile;
    if (e.type === 'budget-reached') io.err(`${c.yellow('budget')}: $${e.spentUsd.toFixed(4)} spent, the --budget of $${e.budget} is reached; stopping\n`);
    if (e.type === 'run-finished') report = e.report;
  }
  if (!report) throw new Error('the run ended without a report');

  const display = (rel: string) => path.relative(io.cwd, path.join(project.root, rel)) || rel;
  const full: RunReport = { ...report, display };
  text.finish(full);
  const stdout = REPORTERS.find((r) => r.stdout === opts.reporter);
  if (stdout?.stdout === 'json') for await (const chunk of jsonReportChunks(full)) io.out(chunk);
  else if (stdout) io.out(stdout.render(full));
  const writeFailed = !(await writeReports(io, full, opts, config.runsDir));
  if (recordFile) io.err(c.dim(`run recorded in ${path.relative(io.cwd, recordFile)}\n`));
  if (tracer) {
    const failed = await tracer.close();
    io.err(failed ? `${c.yellow('warning')}: traces could not be exported to ${tracer.url}: ${failed}\n` : c.dim(`${tracer.spans} spans exported to ${tracer.url}\n`));
  }

  if (signal?.aborted) return EXIT.interrupted;
  if (writeFailed || report.stopped?.kind === 'fatal') return EXIT.invalid;
  if (shard) {
    // One slice cannot decide the gate: regressions are judged over all cases (the multiple-testing family) by merge.
    io.err(`shard ${shard.index}/${shard.count}: ${report.outcomes.length} cases ran; the gate is decided by \`promptgate merge\` over every shard's record\n`);
    return report.stopped ? EXIT.failed : EXIT.ok;
  }
  if (report.stopped) return EXIT.failed;
  return report.gate === 'failed' ? EXIT.failed : EXIT.ok;
}
