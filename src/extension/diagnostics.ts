import type * as vscode from 'vscode';
import * as path from 'node:path';
import { reasonLine, type Diagnostic } from '../core';
import { toRange } from './convert';
import type { EditorState } from './state';

/** The Problems panel: located file errors from loading, and each non-green case's verdict at its case. */
export class Problems {
  private readonly fileDiagnostics = new Map<string, Map<string, vscode.Diagnostic[]>>();
  private outcomeDiagnostics = new Map<string, vscode.Diagnostic[]>();

  constructor(
    private readonly vs: typeof vscode,
    private readonly collection: vscode.DiagnosticCollection,
  ) {}

  /** A folder's file diagnostics, replacing its previous ones (files now without problems are cleared). */
  publishFiles(root: string, diagnostics: readonly Diagnostic[]): void {
    const { vs } = this;
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const d of diagnostics) {
      const list = byFile.get(d.file) ?? [];
      const diag = new vs.Diagnostic(d.range ? toRange(vs, d.range) : new vs.Range(0, 0, 0, 0), d.message, d.severity === 'error' ? vs.DiagnosticSeverity.Error : vs.DiagnosticSeverity.Warning);
      diag.source = 'PromptGate';
      diag.code = d.code;
      list.push(diag);
      byFile.set(d.file, list);
    }
    this.collection.forEach((uri) => {
      if (uri.fsPath.startsWith(root + path.sep) && !byFile.has(uri.fsPath) && !this.outcomeDiagnostics.has(uri.fsPath)) this.collection.delete(uri);
    });
    for (const [file, list] of byFile) this.collection.set(vs.Uri.file(file), [...list, ...(this.outcomeDiagnostics.get(file) ?? [])]);
    this.fileDiagnostics.set(root, byFile);
  }

  /** Regressions and failures as warnings on their case, at the case's current place; replaced every time. */
  publishOutcomes(state: EditorState): void {
    const { vs } = this;
    const next = new Map<string, vscode.Diagnostic[]>();
    // An edit since the run may have moved a case (or removed it).
    const current = new Map(state.allCases().map((c) => [c.id, c]));
    for (const o of state.outcomes.values()) {
      const v = o.verdict;
      const spec = current.get(o.spec.id);
      if (!spec || (v.passing && v.kind !== 'regressed')) continue;
      if (v.kind === 'skipped' || v.kind === 'removed') continue;
      const d = new vs.Diagnostic(toRange(vs, spec.range), `PromptGate ${v.kind === 'new' ? 'failure' : v.kind}: ${reasonLine(o)}`, vs.DiagnosticSeverity.Warning);
      d.source = 'PromptGate';
      next.set(spec.file, [...(next.get(spec.file) ?? []), d]);
    }
    const files = new Set([...this.outcomeDiagnostics.keys(), ...next.keys()]);
    this.outcomeDiagnostics = next;
    for (const file of files) {
      const fileErrors = [...this.fileDiagnostics.values()].flatMap((m) => m.get(file) ?? []);
      this.collection.set(vs.Uri.file(file), [...fileErrors, ...(next.get(file) ?? [])]);
    }
  }
}
