import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { findProjectRoot, formatDiagnostic, hasErrors, loadConfig, loadProject, type Diagnostic, type Project, type ResolvedConfig } from '../core';
import { colors, type CliIO } from './io';

export interface Loaded {
  config: ResolvedConfig;
  project: Project;
  diagnostics: Diagnostic[];
  ok: boolean;
}

/** Finds the project root, reads its config and every prompt and suite under `paths`, printing diagnostics. */
export async function loadForCli(io: CliIO, paths: string[]): Promise<Loaded> {
  const abs = (paths.length ? paths : ['.']).map((p) => path.resolve(io.cwd, p));
  let start = abs[0];
  try {
    if (!(await fs.stat(start)).isDirectory()) start = path.dirname(start);
  } catch {
    start = io.cwd;
  }
  const root = await findProjectRoot(start);
  const { config, diagnostics: configDiagnostics } = await loadConfig(root);
  const project = await loadProject({ root, paths: abs, providerDefaults: config.provider });
  const diagnostics = [...configDiagnostics, ...project.diagnostics];
  printDiagnostics(io, diagnostics);
  return { config, project, diagnostics, ok: !hasErrors(diagnostics) };
}

export function printDiagnostics(io: CliIO, diagnostics: readonly Diagnostic[]): void {
  const c = colors(io);
  const display = (f: string) => path.relative(io.cwd, f) || f;
  for (const d of diagnostics) {
    const text = formatDiagnostic(d, display);
    // Compiler style: `error: file:1:2: message`, and `file:1:2: warning: message`.
    io.err(d.severity === 'error' ? `${c.red('error')}: ${text}\n` : `${c.yellow(text)}\n`);
  }
}
