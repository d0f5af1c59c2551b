import type * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import type { AttackCategory, ResultRow } from '../core';

export const RESULTS_VIEW = 'promptgate.results';

/**
 * The results panel: a webview with a strict Content-Security-Policy (scripts only with this
 * page's nonce, styles and scripts only from media/), rows posted as data and rendered as text.
 */
export class ResultsPanel {
  private panel?: vscode.WebviewPanel;
  private latest: { rows: ResultRow[]; summary: string; attacks: AttackCategory[] } = { rows: [], summary: '', attacks: [] };
  /** How many rows the page last reported rendering (it answers every update). */
  rendered = 0;

  constructor(
    private readonly vs: typeof vscode,
    private readonly media: vscode.Uri,
  ) {}

  /** Restores a panel VS Code kept across a reload (its rows come back from the webview's own state). */
  restore(panel: vscode.WebviewPanel): void {
    this.attach(panel);
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal(undefined, true);
      return;
    }
    const panel = this.vs.window.createWebviewPanel(RESULTS_VIEW, 'PromptGate Results', { viewColumn: this.vs.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, localResourceRoots: [this.media], retainContextWhenHidden: false });
    this.attach(panel);
  }

  update(rows: ResultRow[], summary: string, attacks: AttackCategory[] = []): void {
    this.latest = { rows, summary, attacks };
    void this.panel?.webview.postMessage({ type: 'results', ...this.latest });
  }

  /** Attack success per category as last sent to the page. */
  get attacks(): AttackCategory[] {
    return this.latest.attacks;
  }

  get visible(): boolean {
    return !!this.panel;
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.webview.options = { enableScripts: true, localResourceRoots: [this.media] };
    panel.webview.html = this.html(panel.webview);
    panel.webview.onDidReceiveMessage((m: { type?: string; rows?: number }) => {
      if (m?.type === 'ready' && this.latest.rows.length) void panel.webview.postMessage({ type: 'results', ...this.latest });
      if (m?.type === 'rendered') this.rendered = m.rows ?? 0;
    });
    // Delivered once the page is up; the page also asks on load, for restored panels.
    if (this.latest.rows.length) void panel.webview.postMessage({ type: 'results', ...this.latest });
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    });
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const css = webview.asWebviewUri(this.vs.Uri.joinPath(this.media, 'results.css'));
    const js = webview.asWebviewUri(this.vs.Uri.joinPath(this.media, 'results.js'));
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${webview.cspSource}; style-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css}">
<title>PromptGate Results</title>
</head>
<body>
<div id="root"></div>
<script nonce="${nonce}" src="${js}"></script>
</body>
</html>`;
  }
}
