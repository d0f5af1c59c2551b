import * as vscode from 'vscode';
import { promises as fs } from 'node:fs';
import { PromptGateExtension } from './promptgate';

/** Composition root for the editor: the only runtime import of `vscode`. */
export function activate(context: vscode.ExtensionContext) {
  const t0 = performance.now();
  const ext = new PromptGateExtension(vscode, context, { env: process.env, readDisk: (file) => fs.readFile(file, 'utf8') });
  ext.start();
  ext.timings.activateMs = performance.now() - t0;
  return ext.api;
}

export function deactivate(): void {}
