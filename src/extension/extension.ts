import type * as vscode from 'vscode';

/** Composition root for the editor; the editor issue fills it in. */
export function activate(_context: vscode.ExtensionContext): void {}

export function deactivate(): void {}
