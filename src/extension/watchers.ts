import type * as vscode from 'vscode';
import { affectedCases } from '../core';
import { FILE_GLOB, isConfigFile, isPromptGateFile, type EditorState } from './state';
import type { TestTree } from './tree';

interface Watch {
  /** Test item ids the continuous run covers (undefined: everything). */
  include?: string[];
  exclude: Set<string>;
  samples?: number;
}

export interface WatcherDeps {
  state: EditorState;
  tree: TestTree;
  log: vscode.LogOutputChannel;
  refresh(): Promise<void>;
  runCases(ids: string[], token: vscode.CancellationToken, samples?: number): Promise<unknown>;
  timings: { saveRefreshMs?: number; saveRunMs?: number };
}

/**
 * What follows the files: edits refresh diagnostics (debounced), saves re-run what they changed,
 * and continuous runs follow changes on disk too, until the user stops them.
 */
export class Watchers {
  private refreshTimer?: NodeJS.Timeout;
  private saveRun?: { timer?: NodeJS.Timeout; cancel?: vscode.CancellationTokenSource; files: Set<string> };
  /** Continuous runs in progress: what each one watches, until its token is cancelled. */
  private readonly watches = new Set<Watch>();
  private fileWatcher?: vscode.FileSystemWatcher;
  /** The text each file had when a change to it was last run, so a watcher event after a save is not a second run. */
  private readonly lastRunText = new Map<string, string>();
  private saidUntrusted = false;

  constructor(
    private readonly vs: typeof vscode,
    private readonly deps: WatcherDeps,
  ) {}

  register(subscriptions: vscode.Disposable[]): void {
    const { vs } = this;
    subscriptions.push(
      vs.workspace.onDidChangeTextDocument((e) => this.onEdit(e.document)),
      vs.workspace.onDidOpenTextDocument((d) => this.onEdit(d)),
      vs.workspace.onDidSaveTextDocument((d) => this.onSave(d)),
      { dispose: () => this.dispose() },
    );
  }

  get watching(): number {
    return this.watches.size;
  }

  private dispose(): void {
    clearTimeout(this.refreshTimer);
    clearTimeout(this.saveRun?.timer);
    this.fileWatcher?.dispose();
  }

  private onEdit(doc: vscode.TextDocument): void {
    if (!isPromptGateFile(doc.uri.fsPath) && !isConfigFile(doc.uri.fsPath) && !this.deps.state.isCaseFile(doc.uri.fsPath)) return;
    clearTimeout(this.refreshTimer);
    // While typing: located errors as diagnostics, debounced.
    this.refreshTimer = setTimeout(() => void this.deps.refresh().catch((err) => this.deps.log.error(String(err))), 250);
  }

  /**
   * Saving a prompt or suite file re-runs the cases the save changed (core's affectedCases: a prompt
   * edit, all of its suites; a case edit, that case) and those never run yet; cached ones answer at
   * once. With run on save off, only cases under a continuous run re-run.
   */
  private onSave(doc: vscode.TextDocument): void {
    const file = doc.uri.fsPath;
    if (!isPromptGateFile(file) && !this.deps.state.isCaseFile(file)) return;
    this.scheduleChangeRun(file, doc.getText(), this.deps.state.settings(doc.uri).runOnSave);
  }

  /** A prompt, suite or case file changed on disk (another tool, git): only continuous runs follow it. */
  private async onDiskChange(uri: vscode.Uri): Promise<void> {
    const file = uri.fsPath;
    if ((!isPromptGateFile(file) && !this.deps.state.isCaseFile(file)) || !this.watches.size) return;
    const text = await this.deps.state.ports.readDisk(file).catch(() => undefined);
    if (text === undefined || text === this.lastRunText.get(file)) return;
    this.scheduleChangeRun(file, text, false);
  }

  /** Debounced (a save-all arrives as several events) and cancelling the previous change run. */
  private scheduleChangeRun(file: string, text: string, runOnSave: boolean): void {
    const { deps } = this;
    if (!runOnSave && !this.watches.size) return;
    if (!this.vs.workspace.isTrusted) {
      // Restricted Mode: a save is not a request to run, so no warning on every save; said once in the log.
      if (!this.saidUntrusted) deps.log.info('run on save is off while the workspace is not trusted');
      this.saidUntrusted = true;
      return;
    }
    this.lastRunText.set(file, text);
    const state = this.saveRun ?? (this.saveRun = { files: new Set() });
    clearTimeout(state.timer);
    state.cancel?.cancel();
    state.files.add(file);
    const saved = performance.now();
    state.timer = setTimeout(async () => {
      const files = new Set(state.files);
      state.files.clear();
      await deps.refresh();
      deps.timings.saveRefreshMs = performance.now() - saved;
      const groups = new Map<number | undefined, string[]>();
      for (const c of affectedCases(deps.state.allCases(), files, deps.state.ranFingerprints)) {
        const ancestry = deps.tree.ancestry(c.id);
        const watch = [...this.watches].find((w) => watches(w, ancestry));
        if (!watch && !runOnSave) continue;
        const samples = watch?.samples;
        groups.set(samples, [...(groups.get(samples) ?? []), c.id]);
      }
      if (!groups.size) return;
      state.cancel = new this.vs.CancellationTokenSource();
      for (const [samples, ids] of groups) await deps.runCases(ids, state.cancel.token, samples);
      deps.timings.saveRunMs = performance.now() - saved;
    }, 25); // saves are discrete: a short window only merges a save-all
  }

  /** Starts watching for a continuous run; it ends when VS Code cancels the request. */
  startWatch(request: vscode.TestRunRequest, token: vscode.CancellationToken, samples?: number): void {
    const watch: Watch = { include: request.include?.map((i) => i.id), exclude: new Set((request.exclude ?? []).map((i) => i.id)), samples };
    this.watches.add(watch);
    this.fileWatcher ??= (() => {
      // Prompt and suite files, and the JSONL case files suites read (onDiskChange keeps only those).
      const w = this.vs.workspace.createFileSystemWatcher(FILE_GLOB.replace(/\}$/, ',*.jsonl}'));
      w.onDidChange((uri) => void this.onDiskChange(uri));
      w.onDidCreate((uri) => void this.onDiskChange(uri));
      return w;
    })();
    this.deps.log.info(`continuous run started: ${watch.include?.join(', ') ?? 'every case'}`);
    token.onCancellationRequested(() => {
      this.watches.delete(watch);
      this.deps.log.info('continuous run stopped');
      if (!this.watches.size) {
        this.fileWatcher?.dispose();
        this.fileWatcher = undefined;
      }
    });
  }
}

/** Whether a continuous run covers a case, given the ids of the case's item and its ancestors. */
function watches(w: Watch, ancestry: readonly string[]): boolean {
  if (ancestry.some((id) => w.exclude.has(id))) return false;
  return !w.include || ancestry.some((id) => w.include!.includes(id));
}
