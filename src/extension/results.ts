import type * as vscode from 'vscode';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { findRun, readRun, recordedReport, resultsView, runHistory, type AttackRow, type PromptHistory, type ResultsView, type ViewInput } from '../core';
import type { EditorState } from './state';

export const RESULTS_VIEW = 'promptgate.results';

/**
 * The results panel: a webview with a strict Content-Security-Policy (scripts only with this
 * page's nonce from dist/webview, styles only from media/), the view posted as data and rendered
 * as text and charts by media/results.js. A point of the history opens that recorded run,
 * judged against today's baselines without calling a model.
 */
export class ResultsPanel {
  private panel?: vscode.WebviewPanel;
  private view?: ResultsView;
  /** The newest view asked for wins when history reads finish out of order. */
  private asked = 0;
  /** What the page last reported: cases listed and charts drawn (it answers every view). */
  rendered = 0;
  charts = 0;

  constructor(
    private readonly vs: typeof vscode,
    private readonly extensionUri: vscode.Uri,
    private readonly state: EditorState,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Restores a panel VS Code kept across a reload (its view comes back from the webview's own state). */
  restore(panel: vscode.WebviewPanel): void {
    this.attach(panel);
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal(undefined, true);
      return;
    }
    const panel = this.vs.window.createWebviewPanel(RESULTS_VIEW, 'PromptGate Results', { viewColumn: this.vs.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, localResourceRoots: this.roots(), retainContextWhenHidden: false });
    this.attach(panel);
  }

  /** Shows the latest outcome of each case, with every folder's run history. */
  async showLatest(input: ViewInput): Promise<void> {
    const asked = ++this.asked;
    const history = await this.history();
    if (asked === this.asked) this.post(resultsView(input, { history }));
  }

  /** Shows a recorded run (`latest` for the newest) as the report of that run would. */
  async openRun(runId: string): Promise<void> {
    const asked = ++this.asked;
    for (const folder of this.state.folders.values()) {
      let file: string;
      try {
        file = await findRun(folder.config.runsDir, runId);
      } catch {
        continue;
      }
      try {
        const { report } = await recordedReport(folder.project, folder.config, await readRun(file));
        const history = await this.history();
        const newest = await findRun(folder.config.runsDir, 'latest');
        if (asked === this.asked) this.post(resultsView(report, { history, latest: path.resolve(newest) === path.resolve(file) }));
      } catch (err) {
        void this.vs.window.showErrorMessage(`PromptGate: cannot open run ${runId}: ${(err as Error).message}`);
      }
      return;
    }
    void this.vs.window.showWarningMessage(`PromptGate: no recorded run ${runId} in this workspace.`);
  }

  /** The view last sent to the page (tests). */
  get current(): ResultsView | undefined {
    return this.view;
  }

  /** Attack success per category as last sent to the page. */
  get attacks(): AttackRow[] {
    return this.view?.attacks ?? [];
  }

  get visible(): boolean {
    return !!this.panel;
  }

  private async history(): Promise<PromptHistory[]> {
    const folders = [...this.state.folders.values()];
    const all = await Promise.all(folders.map(async (f) => (await runHistory(f.config.runsDir)).map((h) => (folders.length > 1 ? { ...h, prompt: `${f.folder.name}/${h.prompt}` } : h))));
    return all.flat();
  }

  private post(view: ResultsView): void {
    this.view = view;
    void this.panel?.webview.postMessage({ type: 'view', view });
  }

  private async openCase(caseId: string): Promise<void> {
    const spec = this.state.allCases().find((c) => c.id === caseId);
    if (!spec) return;
    const line = spec.range.start.line;
    await this.vs.window.showTextDocument(this.vs.Uri.file(spec.file), { selection: new this.vs.Range(line, 0, line, 0), viewColumn: this.vs.ViewColumn.One });
  }

  private roots(): vscode.Uri[] {
    return [this.vs.Uri.joinPath(this.extensionUri, 'media'), this.vs.Uri.joinPath(this.extensionUri, 'dist', 'webview')];
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.webview.options = { enableScripts: true, localResourceRoots: this.roots() };
    panel.webview.html = this.html(panel.webview);
    panel.webview.onDidReceiveMessage((m: { type?: string; rows?: number; charts?: number; runId?: unknown; caseId?: unknown }) => {
      if (m?.type === 'ready' && this.view) void panel.webview.postMessage({ type: 'view', view: this.view });
      if (m?.type === 'rendered') {
        this.rendered = m.rows ?? 0;
        this.charts = m.charts ?? 0;
      }
      if (m?.type === 'openRun' && typeof m.runId === 'string') void this.openRun(m.runId).catch((err) => this.log.error(`opening run ${String(m.runId)}: ${String(err)}`));
      if (m?.type === 'openCase' && typeof m.caseId === 'string') void this.openCase(m.caseId).catch((err) => this.log.error(`opening case: ${String(err)}`));
    });
    // Delivered once the page is up; the page also asks on load, for restored panels.
    if (this.view) void panel.webview.postMessage({ type: 'view', view: this.view });
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    });
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const css = webview.asWebviewUri(this.vs.Uri.joinPath(this.extensionUri, 'media', 'results.css'));
    const js = webview.asWebviewUri(this.vs.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'results.js'));
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
<main id="root"></main>
<script nonce="${nonce}" src="${js}"></script>
</body>
</html>`;
  }
}
