import * as path from 'node:path';
import { readFileIfExists, toPromptfoo, toPrompty, writeFileAtomic, type ExportFormat } from '../core';
import { EXIT, colors, type CliIO } from './io';
import { loadForCli } from './load';

export interface ExportOptions {
  to: ExportFormat;
  out?: string;
  force?: boolean;
}

/** `promptgate export PROMPT --to promptfoo|prompty`: the prompt and its golden cases in another tool's format. */
export async function exportCommand(io: CliIO, prompt: string, opts: ExportOptions): Promise<number> {
  const c = colors(io);
  const { project, ok } = await loadForCli(io, [prompt]);
  if (!ok) return EXIT.invalid;
  const file = path.resolve(io.cwd, prompt);
  const spec = project.prompts.find((p) => p.file === file);
  if (!spec || project.prompts.filter((p) => p.file === file).length > 1) {
    io.err(`${c.red('error')}: ${prompt} is not one prompt file (export takes a NAME.prompt.yml or NAME.prompty)\n`);
    return EXIT.invalid;
  }
  const exported = opts.to === 'promptfoo' ? toPromptfoo(spec, project.cases) : toPrompty(spec, project.cases);
  for (const o of exported.omitted) io.err(`${c.yellow('not exported')}: ${o}\n`);
  if (!opts.out) {
    io.out(exported.text);
    return EXIT.ok;
  }
  const out = path.resolve(io.cwd, opts.out);
  if (!opts.force && (await readFileIfExists(out)) !== undefined) {
    io.err(`${c.red('error')}: ${opts.out} exists; pass --force to replace it\n`);
    return EXIT.invalid;
  }
  await writeFileAtomic(out, exported.text);
  io.err(`wrote ${path.relative(io.cwd, out) || out} (${opts.to})\n`);
  return EXIT.ok;
}
