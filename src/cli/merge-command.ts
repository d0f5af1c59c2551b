import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { mergeRuns, newRunId, readRun, recordedReport, writeMergedRecord, type RecordedRun } from '../core';
import { EXIT, colors, type CliIO } from './io';
import { loadForCli } from './load';
import { TextReporter } from './reporters/text';
import { REPORTERS, writeReports } from './test-command';
import type { ReportOptions } from './report-command';

export interface MergeOptions extends Omit<ReportOptions, 'run'> {
  project?: string;
}

/**
 * `promptgate merge RECORD|DIR…`: the run records of a sharded run (`test --shard i/n` on several
 * machines) as one run: one record in .promptgate/runs, one report, one set of verdicts and one gate,
 * as a single run of the same cases would give. Nothing is called.
 */
export async function mergeCommand(io: CliIO, inputs: string[], opts: MergeOptions): Promise<number> {
  const c = colors(io);
  if (!inputs.length) {
    io.err(`${c.red('error')}: name the shards' run records (files, or folders holding them)\n`);
    return EXIT.invalid;
  }
  const files: string[] = [];
  for (const input of inputs) {
    const abs = path.resolve(io.cwd, input);
    const st = await fs.stat(abs).catch(() => undefined);
    if (!st) {
      io.err(`${c.red('error')}: ${input}: no such file or folder\n`);
      return EXIT.invalid;
    }
    if (st.isDirectory()) {
      const inside = (await fs.readdir(abs)).filter((f) => f.endsWith('.jsonl')).sort();
      if (!inside.length) {
        io.err(`${c.red('error')}: ${input}: no run records (.jsonl) in this folder\n`);
        return EXIT.invalid;
      }
      files.push(...inside.map((f) => path.join(abs, f)));
    } else files.push(abs);
  }
  const loaded = await loadForCli(io, [opts.project ?? '.']);
  if (!loaded.ok) {
    io.err(`${c.red('error')}: invalid files; nothing was merged\n`);
    return EXIT.invalid;
  }
  const { config, project } = loaded;
  let merged: RecordedRun;
  let recordFile: string;
  let report;
  let missing = 0;
  try {
    merged = mergeRuns(await Promise.all(files.map((f) => readRun(f))), newRunId(io.now()));
    ({ report, missing } = await recordedReport(project, config, merged));
    if (!report.outcomes.length) throw new Error(`none of the merged cases is in the files under ${opts.project ?? '.'}`);
    recordFile = await writeMergedRecord(config.runsDir, merged);
  } catch (err) {
    io.err(`${c.red('error')}: ${(err as Error).message}\n`);
    return EXIT.invalid;
  }
  if (missing) io.err(c.yellow(`${missing} recorded case${missing === 1 ? ' is' : 's are'} no longer in the files: left out\n`));
  const full = { ...report, display: (rel: string) => path.relative(io.cwd, path.join(project.root, rel)) || rel };
  new TextReporter(io, !opts.reporter || opts.reporter === 'text').finish(full);
  const stdout = opts.reporter && REPORTERS.find((r) => r.stdout === opts.reporter);
  if (stdout) io.out(stdout.render(full));
  const ok = await writeReports(io, full, opts, config.runsDir);
  io.err(c.dim(`merged ${files.length} run records into ${path.relative(io.cwd, recordFile)}\n`));
  if (!ok) return EXIT.invalid;
  if (report.stopped) return EXIT.failed;
  return report.gate === 'failed' ? EXIT.failed : EXIT.ok;
}
