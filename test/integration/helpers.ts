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
