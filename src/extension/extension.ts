import * as vscode from 'vscode';
import { PromptGateExtension } from './promptgate';

/** Composition root for the editor: the only runtime import of `vscode`. */
export function activate(context: vscode.ExtensionContext) {
  const ext = new PromptGateExtension(vscode, context);
  ext.start();
  return ext.api;
}

export function deactivate(): void {}
