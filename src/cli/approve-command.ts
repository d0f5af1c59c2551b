import * as path from 'node:path';
import { planApproval, writeApproval } from '../core';
import { EXIT, colors, type CliIO } from './io';
import { loadForCli, printDiagnostics } from './load';
import { selectCases, type Selection } from './select';

/** `promptgate approve`: the latest run of the selected cases becomes their approved baseline. */
export async function approveCommand(io: CliIO, paths: string[], sel: Selection): Promise<number> {
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
  const approval = await planApproval({ cases, wholeSuites: !sel.case?.length, baselinesDir: config.baselinesDir, runsDir: config.runsDir });
  if (approval.diagnostics.length) {
    printDiagnostics(io, approval.diagnostics);
    return EXIT.invalid;
  }
  await writeApproval(approval);
  const rel = (f: string) => path.relative(io.cwd, f) || f;
  for (const f of approval.files) {
    const dropped = f.dropped.length ? `, dropped ${f.dropped.length} removed case${f.dropped.length === 1 ? '' : 's'}` : '';
    io.out(`${c.green('approved')} ${f.approved.length} case${f.approved.length === 1 ? '' : 's'} of ${f.prompt} › ${f.suite}${dropped}  ${c.dim(rel(f.file))}\n`);
  }
  for (const s of approval.skipped) io.err(`${c.yellow('not approved')}: ${s.caseId}: ${s.reason}\n`);
  if (!approval.files.length) io.err(`${c.red('error')}: nothing was approved\n`);
  return approval.skipped.length || !approval.files.length ? EXIT.failed : EXIT.ok;
}
