import * as path from 'node:path';
import { findRun, readRun, recordedReport } from '../core';
import { EXIT, colors, type CliIO } from './io';
import { loadForCli } from './load';
import { REPORTERS, writeReports } from './test-command';

export interface ReportOptions {
  run?: string;
  reporter?: 'text' | 'json' | 'github' | 'markdown';
  junit?: string;
  json?: string;
  markdown?: string;
  html?: string;
}

/**
 * `promptgate report`: the reports of a recorded run (the newest, or `--run ID`), judged against
 * today's baselines, without calling a model. The exit code is that run's gate.
 */
export async function reportCommand(io: CliIO, paths: string[], opts: ReportOptions): Promise<number> {
  const c = colors(io);
  if (!opts.junit && !opts.json && !opts.markdown && !opts.html && (!opts.reporter || opts.reporter === 'text')) {
    io.err(`${c.red('error')}: say what to write: --html FILE, --json FILE, --markdown FILE, --junit FILE or --reporter\n`);
    return EXIT.invalid;
  }
  const loaded = await loadForCli(io, paths);
  if (!loaded.ok) {
    io.err(`${c.red('error')}: invalid files; no report was written\n`);
    return EXIT.invalid;
  }
  const { config, project } = loaded;
  let report;
  let missing = 0;
  let file: string;
  try {
    file = await findRun(config.runsDir, opts.run ? (opts.run.endsWith('.jsonl') ? path.resolve(io.cwd, opts.run) : opts.run) : 'latest');
    ({ report, missing } = await recordedReport(project, config, await readRun(file)));
  } catch (err) {
    io.err(`${c.red('error')}: ${(err as Error).message}\n`);
    return EXIT.invalid;
  }
  if (!report.outcomes.length) {
    io.err(`${c.red('error')}: none of the cases recorded in ${path.relative(io.cwd, file)} is in the files under ${paths.join(' ') || '.'}\n`);
    return EXIT.invalid;
  }
  if (missing) io.err(c.yellow(`${missing} recorded case${missing === 1 ? ' is' : 's are'} no longer in the files: left out\n`));
  const full = { ...report, display: (rel: string) => path.relative(io.cwd, path.join(project.root, rel)) || rel };
  const stdout = opts.reporter && REPORTERS.find((r) => r.stdout === opts.reporter);
  if (stdout) io.out(stdout.render(full));
  const ok = await writeReports(io, full, opts, config.runsDir);
  io.err(c.dim(`run ${report.summary.runId}: ${report.outcomes.length} cases, judged against the current baselines; ${report.stopped ? `stopped (${report.stopped.reason})` : `gate ${report.gate}`}\n`));
  if (!ok) return EXIT.invalid;
  return report.gate === 'failed' || report.stopped ? EXIT.failed : EXIT.ok;
}
