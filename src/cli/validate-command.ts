import { EXIT, colors, type CliIO } from './io';
import { loadForCli } from './load';

/** `promptgate validate`: checks files only, no provider calls. */
export async function validateCommand(io: CliIO, paths: string[]): Promise<number> {
  const { project, ok, diagnostics } = await loadForCli(io, paths);
  const c = colors(io);
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  const counts = `${project.prompts.length} prompt${project.prompts.length === 1 ? '' : 's'}, ${project.suites.length} suite${project.suites.length === 1 ? '' : 's'}, ${project.cases.length} case${project.cases.length === 1 ? '' : 's'}`;
  if (!ok) {
    io.err(`${c.red('invalid')}: ${diagnostics.length - warnings} error${diagnostics.length - warnings === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`);
    return EXIT.invalid;
  }
  if (!project.prompts.length) {
    io.err(`${c.red('error')}: no prompt files found under ${paths.join(' ') || '.'}\n`);
    return EXIT.invalid;
  }
  io.out(`${c.green('valid')}: ${counts}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`);
  for (const p of project.prompts) io.out(`  ${p.relFile}  ${p.name}${p.version ? ` ${p.version}` : ''}  ${c.dim(p.versionId)}\n`);
  return EXIT.ok;
}
