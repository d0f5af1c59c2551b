import * as vscode from 'vscode';

/** The workspace folder the runner opened (a fresh copy of test/fixtures/vscode-ws). */
export const root = (): string => vscode.workspace.workspaceFolders![0].uri.fsPath;

/** Polls `fn` until it returns something truthy; fails after `ms` naming what it waited for. */
export async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Opens the file in an editor, inserts `text` at its start and saves it, as a user would. */
export async function insertAndSave(uri: vscode.Uri, text: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc);
  const edit = new vscode.WorkspaceEdit();
  edit.insert(uri, new vscode.Position(0, 0), text);
  await vscode.workspace.applyEdit(edit);
  await doc.save();
}
