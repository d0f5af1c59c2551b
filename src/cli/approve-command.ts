import * as path from 'node:path';
import { planApproval, runSession, writeApproval, type CaseSpec } from '../core';
import { EXIT, colors, type CliIO } from './io';
import { loadForCli, printDiagnostics, type Loaded } from './load';
import { selectCases, type Selection } from './select';

export interface ApproveOptions extends Selection {
  /** Sample the cases whose latest run is too thin for a baseline until it is strong enough, then approve. */
  topUp?: boolean;
  /** With --top-up: answer from the cassettes. */
  replay?: boolean;
  budget?: number;
}

/** `promptgate approve`: the latest run of the selected cases becomes their approved baseline. */
export async function approveCommand(io: CliIO, paths: string[], sel: ApproveOptions, signal?: AbortSignal): Promise<number> {
  const c = colors(io);
  const { config, project, ok } = await loadForCli(io, paths);
  if (!ok) {
    io.err(`${c.red('error')}: invalid files; nothing was approved\n`);
    return EXIT.invalid;
  }
  const { cases, error } = selectCases(project, sel);
  if (error) {
    io.err(`${c.red('error')}: ${error}\n`);
    return EXIT.invalid;
  }
  if (!cases.length) {
    io.err(`${c.red('error')}: no cases to approve under ${paths.join(' ') || '.'}\n`);
    return EXIT.invalid;
  }
  const plan = () => planApproval({ cases, wholeSuites: !sel.case?.length, baselinesDir: config.baselinesDir, runsDir: config.runsDir, sampling: config.sampling });
  let approval = await plan();
  if (approval.diagnostics.length) {
    printDiagnostics(io, approval.diagnostics);
    return EXIT.invalid;
  }
  if (sel.topUp && approval.weak.length) {
    const stopped = await topUp(io, { project, config }, approval.weak.map((w) => w.spec), sel, signal);
    if (stopped !== undefined) return stopped;
    approval = await plan();
  }
  await writeApproval(approval);
  const rel = (f: string) => path.relative(io.cwd, f) || f;
  for (const f of approval.files) {
    const dropped = f.dropped.length ? `, dropped ${f.dropped.length} removed case${f.dropped.length === 1 ? '' : 's'}` : '';
    io.out(`${c.green('approved')} ${f.approved.length} case${f.approved.length === 1 ? '' : 's'} of ${f.prompt} › ${f.suite}${dropped}  ${c.dim(rel(f.file))}\n`);
  }
  for (const s of approval.skipped) io.err(`${c.yellow('not approved')}: ${s.caseId}: ${s.reason}\n`);
  for (const w of approval.weak) io.err(`${c.yellow('not approved')}: ${w.spec.id}: too thin for a baseline (${w.reason})\n`);
  if (approval.weak.length) {
    const scope = [...paths, ...(sel.suite ?? []).flatMap((s) => ['--suite', s]), ...(sel.case ?? []).flatMap((k) => ['--case', k])].join(' ');
    io.err(`  a baseline must be strong enough to judge later runs against: run ${c.bold(`promptgate approve --top-up${scope ? ` ${scope}` : ''}`)} to sample ${approval.weak.length === 1 ? 'it' : 'them'} and approve\n`);
  }
  if (!approval.files.length) io.err(`${c.red('error')}: nothing was approved\n`);
  return approval.skipped.length || approval.weak.length || !approval.files.length ? EXIT.failed : EXIT.ok;
}

/** Runs the thin cases as a baseline run (sampled until `baselineSettled`); an exit code when it could not. */
async function topUp(io: CliIO, loaded: Pick<Loaded, 'project' | 'config'>, cases: CaseSpec[], sel: ApproveOptions, signal?: AbortSignal): Promise<number | undefined> {
  const c = colors(io);
  io.err(`${c.dim(`topping up ${cases.length} case${cases.length === 1 ? '' : 's'} to baseline strength…`)}\n`);
  const session = runSession(
    { project: loaded.project, config: loaded.config, cases, mode: sel.replay ? 'replay' : 'live', cache: true, asBaseline: true, budget: sel.budget, meta: { argv: ['approve', '--top-up'] }, signal },
    { env: io.env, now: io.now },
  );
  for await (const e of session) {
    if (e.type === 'not-run') {
      const r = e.reason;
      if (r.kind === 'baselines') printDiagnostics(io, r.diagnostics);
      else if (r.kind === 'provider') io.err(`${c.red('error')}: ${r.message}\n`);
      else io.err(`${c.red('error')}: topping up would cost about $${r.estimate.usd.toFixed(4)} (${r.estimate.calls} calls), over the --budget of $${r.budget}; nothing was approved\n`);
      return EXIT.invalid;
    }
    if (e.type === 'warning') io.err(`${c.yellow('warning')}: ${e.message}\n`);
    if (e.type === 'run-finished') {
      const calls = e.summary.total;
      io.err(`${c.dim(`${calls} samples in ${(e.summary.durationMs / 1000).toFixed(1)} s${e.summary.hits ? `, ${e.summary.hits} from the cache` : ''}`)}\n`);
      if (e.report.stopped) {
        io.err(`${c.red('error')}: the top-up stopped (${e.report.stopped.reason}); nothing was approved\n`);
        return EXIT.failed;
      }
    }
  }
  return undefined;
}
