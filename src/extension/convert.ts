import type * as vscode from 'vscode';
import type { Range } from '../core';

/** The one place where core's plain ranges become VS Code ranges. */
export function toRange(vs: typeof vscode, r: Range): vscode.Range {
  return new vs.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}
