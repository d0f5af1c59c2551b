/** Zero-based position, as in LSP and VS Code; formatting adds one for humans. */
export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** A problem found in a user's file, located where there is a location. */
export interface Diagnostic {
  file: string;
  range?: Range;
  message: string;
  severity: 'error' | 'warning';
  /** Stable machine-readable code, e.g. `yaml`, `schema`, `template`, `assertion`. */
  code: string;
}

/** `file:line:column: message`, with one-based line and column. */
export function formatDiagnostic(d: Diagnostic, relativeTo?: (file: string) => string): string {
  const file = relativeTo ? relativeTo(d.file) : d.file;
  const where = d.range ? `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}` : file;
  return `${where}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** An error that carries located diagnostics; thrown only across internal boundaries, reported as values. */
export class DiagnosticError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => formatDiagnostic(d)).join('\n'));
    this.name = 'DiagnosticError';
  }
}

export function pointRange(line: number, character: number): Range {
  return { start: { line, character }, end: { line, character } };
}
