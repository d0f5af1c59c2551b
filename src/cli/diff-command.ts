import * as path from 'node:path';
import { Baselines, caseOutcomes, caseTitle, suitesWith, latestResults, renderDiff, verdictLine, verdictsForRun } from '../core';
import { EXIT, colors, type CliIO } from './io';
import { loadForCli, printDiagnostics } from './load';
import { selectCases, type Selection } from './select';

/** `promptgate diff`: the approved baseline against the latest recorded run, without running anything. */
export async function diffCommand(io: CliIO, paths: string[], sel: Selection): Promise<number> {
  const c = colors(io);
  const { config, project, ok } = await loadForCli(io, paths);
  if (!ok) return EXIT.invalid;
  const { cases, error } = selectCases(project, sel);
  if (error) {
    io.err(`${c.red('error')}: ${error}\n`);
    return EXIT.invalid;
  }
  const { baselines, diagnostics } = await Baselines.load(config.baselinesDir, suitesWith(project.suites, cases));
  printDiagnostics(io, diagnostics);
  if (diagnostics.some((d) => d.severity === 'error')) return EXIT.invalid;
  const latest = await latestResults(config.runsDir, new Set(cases.map((k) => k.id)));
  const withBoth = cases.filter((k) => latest.has(k.id) && baselines.forCase(k));
  const verdicts = verdictsForRun(withBoth, latest, baselines, { policy: config.verdicts, sampling: config.sampling, completeSuites: new Set() });
  const outcomes = caseOutcomes(withBoth, latest, verdicts, baselines);
  const color = io.isTTY && !io.env.NO_COLOR;
  const marks = { added: (s: string) => (color ? c.green(s) : `{+${s}+}`), removed: (s: string) => (color ? c.red(s) : `[-${s}-]`) };
  const lines: string[] = [];
  let changed = 0;
  for (const o of outcomes) {
    if (!o.change && o.verdict.kind === 'pass') continue;
    changed++;
    const where = c.dim(`${path.relative(io.cwd, path.join(project.root, o.spec.relFile))}:${o.spec.range.start.line + 1}`);
    lines.push(`${c.bold(o.verdict.kind.toUpperCase())} ${caseTitle(o)}  ${where}`, `  ${verdictLine(o.verdict)}`);
    if (o.change) lines.push(...renderDiff(o.change.diff, marks).split('\n').map((l) => `  ${l}`));
    lines.push('');
  }
  const noBaseline = cases.filter((k) => !baselines.forCase(k)).length;
  const noRun = cases.filter((k) => baselines.forCase(k) && !latest.has(k.id)).length;
  lines.push(`${changed} of ${outcomes.length} compared case${outcomes.length === 1 ? '' : 's'} changed${noBaseline ? `; ${noBaseline} without a baseline` : ''}${noRun ? `; ${noRun} without a recorded run` : ''}`);
  io.out(`${lines.join('\n')}\n`);
  return EXIT.ok;
}
