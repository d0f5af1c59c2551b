import type * as vscode from 'vscode';
import * as path from 'node:path';
import {
  affectedCases,
  attackReport,
  caseFingerprint,
  Baselines,
  ResponseStore,
  RunRecorder,
  caseOutcomes,
  resultRows,
  countVerdicts,
  formatDiagnostic,
  loadConfig,
  loadProject,
  makeJudge,
  makeProviders,
  newRunId,
  estimateRunCost,
  parseEditorSettings,
  planCase,
  suitesWith,
  planApproval,
  priceTable,
  recorded,
  runCases,
  verdictsForRun,
  writeApproval,
  type CaseOutcome,
  type CaseResult,
  type CaseSpec,
  type Diagnostic,
  type EditorSettings,
  type Project,
  type ResolvedConfig,
} from '../core';
import { toRange } from './convert';
import { RegistryView } from './registry';
import { RESULTS_VIEW, ResultsPanel } from './results';

type VSCode = typeof vscode;

const SECRET_KEY = 'promptgate.openaiApiKey';
const FILE_GLOB = '**/{*.prompt.yml,*.prompt.yaml,*.suite.yml,*.suite.yaml,*.prompty,promptfooconfig.yaml,promptfooconfig.yml}';
const isPromptGateFile = (file: string) => /(?:\.(?:(?:prompt|suite)\.ya?ml|prompty)|(?:^|[\\/])promptfooconfig\.ya?ml)$/i.test(file);

interface FolderState {
  folder: vscode.WorkspaceFolder;
  config: ResolvedConfig;
  project: Project;
  /** Errors in promptgate.config.yml: nothing runs until they are fixed (a run might write outside the project). */
  configErrors: string[];
}

/** What a finished run leaves for lenses, diagnostics, diffs and tests. */
export interface RunSummaryForEditor {
  outcomes: CaseOutcome[];
  counts: Record<string, number>;
  gateFailed: boolean;
}

/**
 * The editor adapter: it turns core's project, runs and verdicts into the Testing API, CodeLens,
 * diagnostics, diff views and commands. It decides nothing about prompts, scores or baselines.
 */
export class PromptGateExtension {
  private readonly folders = new Map<string, FolderState>();
  private folderOfCase = new Map<CaseSpec, FolderState>();
  private readonly outcomes = new Map<string, CaseOutcome>();
  private readonly controller: vscode.TestController;
  private readonly diagnostics: vscode.DiagnosticCollection;
  private readonly log: vscode.LogOutputChannel;
  private readonly status: vscode.StatusBarItem;
  private readonly lensChanged: vscode.EventEmitter<void>;
  private readonly results: ResultsPanel;
  private readonly registry: RegistryView;
  private refreshTimer?: NodeJS.Timeout;
  private lastRun: string[] = [];
  private runCount = 0;
  private saveRun?: { timer?: NodeJS.Timeout; cancel?: vscode.CancellationTokenSource; files: Set<string> };
  /** Continuous runs in progress: what each one watches, until its token is cancelled. */
  private readonly watches = new Set<Watch>();
  private fileWatcher?: vscode.FileSystemWatcher;
  /** The text each file had when a change to it was last run, so a watcher event after a save is not a second run. */
  private readonly lastRunText = new Map<string, string>();
  private profiles: vscode.TestRunProfile[] = [];
  private saidUntrusted = false;
  /** What each case was when it last ran (core's fingerprint), so a save re-runs only what changed. */
  private readonly ranFingerprints = new Map<string, string>();

  constructor(
    private readonly vs: VSCode,
    private readonly context: vscode.ExtensionContext,
  ) {
    this.controller = vs.tests.createTestController('promptgate', 'PromptGate');
    this.diagnostics = vs.languages.createDiagnosticCollection('promptgate');
    this.log = vs.window.createOutputChannel('PromptGate', { log: true });
    this.status = vs.window.createStatusBarItem(vs.StatusBarAlignment.Left, 10);
    this.lensChanged = new vs.EventEmitter<void>();
    this.results = new ResultsPanel(vs, vs.Uri.joinPath(context.extensionUri, 'media'));
    this.registry = new RegistryView(vs, {
      folders: () => [...this.folders.values()],
      settings: (scope) => this.settings(scope),
      refresh: () => this.refresh(),
      runCases: (ids, samples) => this.runCases(ids, undefined, samples),
      lensesChanged: () => this.lensChanged.fire(),
      log: this.log,
    });
    context.subscriptions.push(this.controller, this.diagnostics, this.log, this.status, this.lensChanged);
  }

  /** Registers everything; parsing waits until the Test Explorer or a command asks for it. */
  start(): void {
    const { vs, context } = this;
    this.controller.resolveHandler = async (item) => {
      if (!item) await this.refresh();
    };
    this.controller.refreshHandler = () => this.refresh();
    const run = (samples?: number, approve = false) => async (request: vscode.TestRunRequest, token: vscode.CancellationToken) => {
      await this.runRequest(request, token, samples, approve);
    };
    // Run and Run with 5 samples also run continuously: the watched cases re-run whenever a file
    // they depend on changes, saved in the editor or on disk, until the user stops it.
    this.profiles = [
      this.controller.createRunProfile('Run', vs.TestRunProfileKind.Run, run(), true, undefined, true),
      this.controller.createRunProfile('Run with 5 samples', vs.TestRunProfileKind.Run, run(5), false, undefined, true),
      this.controller.createRunProfile('Run and approve as baseline', vs.TestRunProfileKind.Run, run(undefined, true), false),
    ];

    context.subscriptions.push(
      vs.languages.registerCodeLensProvider([{ pattern: FILE_GLOB }], { onDidChangeCodeLenses: this.lensChanged.event, provideCodeLenses: (doc) => this.lenses(doc) }),
      vs.workspace.registerTextDocumentContentProvider('promptgate-output', { provideTextDocumentContent: (uri) => this.outputDocument(uri) }),
      vs.workspace.onDidChangeTextDocument((e) => this.onEdit(e.document)),
      context.secrets.onDidChange((e) => {
        if (e.key === SECRET_KEY) this.secret = undefined;
      }),
      vs.workspace.onDidOpenTextDocument((d) => this.onEdit(d)),
      vs.workspace.onDidSaveTextDocument((d) => this.onSave(d)),
      vs.commands.registerCommand('promptgate.runAll', () => this.runCommand()),
      vs.commands.registerCommand('promptgate.runFile', (uri?: vscode.Uri) => this.runCommand((uri ?? vs.window.activeTextEditor?.document.uri)?.fsPath)),
      vs.commands.registerCommand('promptgate.runCases', (ids: string[]) => this.runCases(ids)),
      vs.commands.registerCommand('promptgate.runAdversarial', () => this.runCommand(undefined, 'adversarial')),
      vs.commands.registerCommand('promptgate.approve', (ids?: string[]) => this.approve(ids)),
      vs.commands.registerCommand('promptgate.showDiff', (id?: string) => this.showDiff(id)),
      vs.commands.registerCommand('promptgate.setApiKey', (value?: string) => this.setApiKey(value)),
      vs.commands.registerCommand('promptgate.createPromptFile', () => this.createPromptFile()),
      vs.commands.registerCommand('promptgate.refresh', () => this.refresh()),
      vs.commands.registerCommand('promptgate.showResults', () => this.results.show()),
      vs.window.registerWebviewPanelSerializer(RESULTS_VIEW, { deserializeWebviewPanel: async (panel) => this.results.restore(panel) }),
    );
    this.registry.register(context);
    this.status.text = '$(beaker) PromptGate';
    this.status.tooltip = 'PromptGate: no run yet';
    this.status.command = 'promptgate.showResults';
    this.status.show();
  }

  private loading?: Promise<void>;

  private ensureLoaded(): void {
    this.loading ??= this.refresh().catch((err) => this.log.error(`loading prompt files failed: ${String(err)}`));
  }

  /** Re-reads every workspace folder's prompt and suite files (open documents as they are in the editor). */
  async refresh(): Promise<void> {
    const { vs } = this;
    const t0 = performance.now();
    const seen = new Set<string>();
    for (const folder of vs.workspace.workspaceFolders ?? []) {
      const root = folder.uri.fsPath;
      seen.add(root);
      const { config, diagnostics: configDiagnostics } = await loadConfig(root);
      const project = await loadProject({ root, paths: [root], providerDefaults: config.provider, readFile: (f) => this.read(f) });
      this.folders.set(root, { folder, config, project, configErrors: configDiagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d)) });
      this.publishDiagnostics(root, [...configDiagnostics, ...project.diagnostics]);
    }
    for (const key of [...this.folders.keys()]) if (!seen.has(key)) this.folders.delete(key);
    this.folderOfCase = new Map([...this.folders.values()].flatMap((f) => f.project.cases.map((c) => [c, f] as const)));
    this.buildTree();
    if (this.outcomes.size) this.publishOutcomeDiagnostics();
    this.registry.projectChanged();
    this.lensChanged.fire();
    this.timings.lastLoadMs = performance.now() - t0;
    this.timings.firstLoadMs ??= this.timings.lastLoadMs;
  }

  /** Measured by `npm run bench` through the API. */
  readonly timings: { activateMs?: number; firstLoadMs?: number; lastLoadMs?: number; saveRefreshMs?: number; saveRunMs?: number } = {};

  /** The test tree: workspace folder → prompt file → suite → case, with ranges at each case. */
  private buildTree(): void {
    const { vs, controller } = this;
    const top: vscode.TestItem[] = [];
    for (const { folder, project } of this.folders.values()) {
      if (!project.suites.length) continue;
      const folderItem = controller.createTestItem(folder.uri.toString(), folder.name, folder.uri);
      const prompts = new Map<string, vscode.TestItem>();
      for (const suite of project.suites) {
        let promptItem = prompts.get(suite.prompt.file);
        if (!promptItem) {
          promptItem = controller.createTestItem(suite.prompt.relFile, suite.prompt.relFile, vs.Uri.file(suite.prompt.file));
          promptItem.range = toRange(vs, suite.prompt.range);
          promptItem.description = `${suite.prompt.version ? `${suite.prompt.version} · ` : ''}${suite.prompt.versionId.slice(0, 7)}`;
          prompts.set(suite.prompt.file, promptItem);
          folderItem.children.add(promptItem);
        }
        const suiteItem = controller.createTestItem(`${suite.relFile}::${suite.name}`, suite.name, vs.Uri.file(suite.file));
        suiteItem.range = toRange(vs, suite.range);
        suiteItem.description = suite.kind;
        for (const c of suite.cases) {
          const item = controller.createTestItem(c.id, c.name, vs.Uri.file(c.file));
          item.range = toRange(vs, c.range);
          item.tags = [];
          suiteItem.children.add(item);
        }
        promptItem.children.add(suiteItem);
      }
      top.push(folderItem);
    }
    controller.items.replace(top);
    this.items.clear();
    const index = (item: vscode.TestItem) => {
      this.items.set(item.id, item);
      item.children.forEach(index);
    };
    top.forEach(index);
  }

  /** Every test item by id, rebuilt with the tree. */
  private readonly items = new Map<string, vscode.TestItem>();

  /**
   * A file as the user sees it: an editor's unsaved text, else the disk. An unmodified editor is not
   * asked: after a change on disk it still shows the old text until it reloads, and a run on that
   * text would be evidence for content the file no longer has.
   */
  private async read(file: string): Promise<string> {
    const open = this.vs.workspace.textDocuments.find((d) => d.uri.fsPath === file);
    if (open?.isDirty) return open.getText();
    const { promises: fs } = await import('node:fs');
    return fs.readFile(file, 'utf8');
  }

  private onEdit(doc: vscode.TextDocument): void {
    if (!isPromptGateFile(doc.uri.fsPath) && !doc.uri.fsPath.endsWith('promptgate.config.yml')) return;
    clearTimeout(this.refreshTimer);
    // While typing: located errors as diagnostics, debounced.
    this.refreshTimer = setTimeout(() => void this.refresh().catch((err) => this.log.error(String(err))), 250);
  }

  /**
   * Saving a prompt or suite file re-runs the cases the save changed (core's affectedCases: a prompt
   * edit, all of its suites; a case edit, that case) and those never run yet; cached ones answer at
   * once. With run on save off, only cases under a continuous run re-run.
   */
  private onSave(doc: vscode.TextDocument): void {
    const file = doc.uri.fsPath;
    if (!isPromptGateFile(file)) return;
    this.scheduleChangeRun(file, doc.getText(), this.settings(doc.uri).runOnSave);
  }

  /** A prompt or suite file changed on disk (another tool, git): only continuous runs follow it. */
  private async onDiskChange(uri: vscode.Uri): Promise<void> {
    const file = uri.fsPath;
    if (!isPromptGateFile(file) || !this.watches.size) return;
    const { promises: fs } = await import('node:fs');
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined || text === this.lastRunText.get(file)) return;
    this.scheduleChangeRun(file, text, false);
  }

  /** Debounced (a save-all arrives as several events) and cancelling the previous change run. */
  private scheduleChangeRun(file: string, text: string, runOnSave: boolean): void {
    if (!runOnSave && !this.watches.size) return;
    if (!this.vs.workspace.isTrusted) {
      // Restricted Mode: a save is not a request to run, so no warning on every save; said once in the log.
      if (!this.saidUntrusted) this.log.info('run on save is off while the workspace is not trusted');
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
      await this.refresh();
      this.timings.saveRefreshMs = performance.now() - saved;
      const groups = new Map<number | undefined, string[]>();
      for (const c of affectedCases(this.allCases(), files, this.ranFingerprints)) {
        const watch = [...this.watches].find((w) => watches(w, this.ancestry(c.id)));
        if (!watch && !runOnSave) continue;
        const samples = watch?.samples;
        groups.set(samples, [...(groups.get(samples) ?? []), c.id]);
      }
      if (!groups.size) return;
      state.cancel = new this.vs.CancellationTokenSource();
      for (const [samples, ids] of groups) await this.runCases(ids, state.cancel.token, samples);
      this.timings.saveRunMs = performance.now() - saved;
    }, 25); // saves are discrete: a short window only merges a save-all
  }

  /** The ids of a case's test item and of every item above it. */
  private ancestry(id: string): string[] {
    const out: string[] = [];
    for (let item = this.items.get(id); item; item = item.parent) out.push(item.id);
    return out;
  }

  /** Starts watching for a continuous run; it ends when VS Code cancels the request. */
  private startWatch(request: vscode.TestRunRequest, token: vscode.CancellationToken, samples?: number): void {
    const watch: Watch = { include: request.include?.map((i) => i.id), exclude: new Set((request.exclude ?? []).map((i) => i.id)), samples };
    this.watches.add(watch);
    this.fileWatcher ??= (() => {
      const w = this.vs.workspace.createFileSystemWatcher(FILE_GLOB);
      w.onDidChange((uri) => void this.onDiskChange(uri));
      w.onDidCreate((uri) => void this.onDiskChange(uri));
      return w;
    })();
    this.log.info(`continuous run started: ${watch.include?.join(', ') ?? 'every case'}`);
    token.onCancellationRequested(() => {
      this.watches.delete(watch);
      this.log.info('continuous run stopped');
      if (!this.watches.size) {
        this.fileWatcher?.dispose();
        this.fileWatcher = undefined;
      }
    });
  }

  private allCases(): CaseSpec[] {
    return [...this.folders.values()].flatMap((f) => f.project.cases);
  }

  /** Which folder a case belongs to; indexed on every refresh so runs of many cases stay linear. */
  private stateFor(spec: CaseSpec): FolderState | undefined {
    return this.folderOfCase.get(spec);
  }

  private readonly reportedSettings = new Set<string>();
  private secret?: Promise<string | undefined>;

  /** The key from SecretStorage, read once (a round trip to the window) and again only when it changes. */
  private apiKey(): Promise<string | undefined> {
    this.secret ??= Promise.resolve(this.context.secrets.get(SECRET_KEY));
    return this.secret;
  }

  /** Settings checked by core's schema; an invalid one falls back to its default, said once. */
  private settings(scope: vscode.Uri): EditorSettings {
    const c = this.vs.workspace.getConfiguration('promptgate', scope);
    const { settings, problems } = parseEditorSettings({ runOnSave: c.get('runOnSave'), baseURL: c.get('baseURL'), concurrency: c.get('concurrency'), samples: c.get('samples'), budget: c.get('budget'), registry: c.get('registry'), registryRefreshSeconds: c.get('registryRefreshSeconds') });
    for (const p of problems) {
      if (this.reportedSettings.has(p)) continue;
      this.reportedSettings.add(p);
      this.log.warn(p);
      void this.vs.window.showWarningMessage(`PromptGate: ${p}`);
    }
    return settings;
  }

  private async runCommand(file?: string, kind?: 'adversarial'): Promise<RunSummaryForEditor | undefined> {
    await this.refresh();
    const ids = this.allCases()
      .filter((c) => (!file || c.prompt.file === file || c.file === file) && (!kind || c.suiteKind === kind))
      .map((c) => c.id);
    if (!ids.length) {
      void this.vs.window.showInformationMessage('PromptGate: no cases to run here.');
      return undefined;
    }
    return this.runCases(ids);
  }

  /** Runs cases by id through a TestRun, so the Test Explorer shows them. Returns what lenses and tests read. */
  async runCases(ids: readonly string[], token?: vscode.CancellationToken, samples?: number): Promise<RunSummaryForEditor | undefined> {
    if (!this.folders.size) await this.refresh();
    const items = ids.map((id) => this.items.get(id)).filter((i): i is vscode.TestItem => !!i);
    const request = new this.vs.TestRunRequest(items);
    return this.runRequest(request, token ?? new this.vs.CancellationTokenSource().token, samples);
  }

  private async runRequest(request: vscode.TestRunRequest, token: vscode.CancellationToken, samples?: number, approve = false): Promise<RunSummaryForEditor | undefined> {
    const { vs } = this;
    if (request.continuous && !approve) {
      this.startWatch(request, token, samples);
      return undefined;
    }
    if (!this.folders.size) await this.refresh();
    const include = request.include?.length ? request.include : [...collect(this.controller.items)];
    const excluded = new Set((request.exclude ?? []).map((i) => i.id));
    const ids = new Set<string>();
    const addLeaves = (item: vscode.TestItem) => {
      if (excluded.has(item.id)) return;
      if (item.children.size === 0) ids.add(item.id);
      else item.children.forEach(addLeaves);
    };
    include.forEach(addLeaves);
    const cases = this.allCases().filter((c) => ids.has(c.id));
    const run = this.controller.createTestRun(request, 'PromptGate', true);
    const itemOf = new Map(this.items);
    if (!vs.workspace.isTrusted) {
      for (const c of cases) {
        const item = itemOf.get(c.id);
        if (item) run.skipped(item);
      }
      run.appendOutput('PromptGate: this workspace is not trusted, so nothing calls a model and no javascript assertion runs. Trust the workspace to run.\r\n');
      run.end();
      void vs.window.showWarningMessage('PromptGate: runs are disabled in an untrusted workspace.');
      return undefined;
    }
    for (const c of cases) {
      const item = itemOf.get(c.id);
      if (item) run.enqueued(item);
    }
    const byFolder = new Map<FolderState, CaseSpec[]>();
    for (const c of cases) {
      const s = this.stateFor(c);
      if (s) byFolder.set(s, [...(byFolder.get(s) ?? []), c]);
    }
    const all: CaseOutcome[] = [];
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    try {
      for (const [state, specs] of byFolder) all.push(...(await this.runFolder(state, specs, run, itemOf, abort.signal, samples)));
      if (approve && !abort.signal.aborted) await this.approve(all.map((o) => o.spec.id));
    } catch (err) {
      this.log.error(`run failed: ${(err as Error).stack ?? String(err)}`);
      run.appendOutput(`PromptGate: ${(err as Error).message}\r\n`);
      for (const c of cases) {
        const item = itemOf.get(c.id);
        if (item && !all.some((o) => o.spec.id === c.id)) run.errored(item, new vs.TestMessage((err as Error).message));
      }
    } finally {
      run.end();
    }
    this.lastRun = all.map((o) => o.spec.id);
    this.runCount++;
    const counts = countVerdicts(all.map((o) => o.verdict));
    const summary = { outcomes: all, counts, gateFailed: all.some((o) => o.verdict.kind === 'regressed' || o.verdict.kind === 'errored' || (o.verdict.kind === 'new' && !o.verdict.passing)) };
    this.status.text = `$(beaker) ${counts.regressed ? `$(warning) ${counts.regressed} regressed` : `$(check) ${all.filter((o) => o.verdict.passing).length}/${all.length}`}`;
    this.status.tooltip = `PromptGate: ${Object.entries(counts).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(', ')}`;
    this.publishOutcomeDiagnostics();
    this.lensChanged.fire();
    const latest = [...this.outcomes.values()];
    this.results.update(resultRows(latest), `Last run: ${Object.entries(counts).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(', ') || 'nothing ran'}`, attackReport(latest, this.policyAlpha()));
    return summary;
  }

  private async runFolder(state: FolderState, specs: CaseSpec[], run: vscode.TestRun, itemOf: Map<string, vscode.TestItem>, signal: AbortSignal, samples?: number): Promise<CaseOutcome[]> {
    const { vs } = this;
    const { config, project } = state;
    if (state.configErrors.length) throw new Error(`fix promptgate.config.yml first:\n${state.configErrors.join('\n')}`);
    const settings = this.settings(state.folder.uri);
    const key = await this.apiKey();
    const env = { ...process.env, ...(key ? { OPENAI_API_KEY: key } : {}), ...(settings.baseURL ? { OPENAI_BASE_URL: settings.baseURL } : {}) };
    const deps = { env, now: () => Date.now() };
    const { baselines, diagnostics } = await Baselines.load(config.baselinesDir, suitesWith(project.suites, specs));
    if (diagnostics.length) throw new Error(diagnostics.map((d) => formatDiagnostic(d)).join('\n'));
    const providerFor = makeProviders(specs, 'live', config.cassettesDir, deps);
    const judge = specs.some((c) => c.assertions.some((a) => a.definition.kind === 'model')) ? makeJudge(config, 'live', deps, true, priceTable(config.prices)) : undefined;
    const override = samples ?? settings.samples ?? undefined;
    const plan = (spec: CaseSpec) => planCase(spec, override, baselines, config.verdicts, config.sampling);
    const cache = new ResponseStore(config.cacheDir);
    if (settings.budget !== null) {
      const estimate = await estimateRunCost(specs, plan, priceTable(config.prices), cache, providerFor);
      if (estimate.usd > settings.budget) {
        const choice = await vs.window.showWarningMessage(
          `PromptGate: this run would cost about $${estimate.usd.toFixed(4)} (${estimate.calls} model calls), over your budget of $${settings.budget}.`,
          { modal: true, detail: 'Cached cases are free and not counted. Change promptgate.budget to move the limit.' },
          'Run anyway',
        );
        if (choice !== 'Run anyway') {
          for (const c of specs) {
            const item = itemOf.get(c.id);
            if (item) run.skipped(item);
          }
          run.appendOutput(`PromptGate: not run, over the budget of $${settings.budget} (estimated $${estimate.usd.toFixed(4)}).\r\n`);
          return [];
        }
      }
    }
    const runId = newRunId(Date.now());
    const recorder = new RunRecorder(config.runsDir, runId, { mode: 'live', from: 'vscode' });
    await recorder.open();
    const results = new Map<string, CaseResult[]>();
    const events = runCases(
      specs,
      { runId, concurrency: settings.concurrency ?? Math.min(config.concurrency, project.maxConcurrency ?? Infinity), plan, signal },
      {
        providerFor,
        cache,
        prices: priceTable(config.prices),
        now: () => Date.now(),
        judge: judge && ((a, s) => judge.context(s, { samples: a.judgeSamples, model: a.judgeModel })),
        judgeOnlyIfDeterministicPass: config.judge.onlyIfDeterministicPass,
      },
    );
    const started = new Set<string>();
    for await (const e of recorded(events, recorder)) {
      if (e.type === 'case-started' && !started.has(e.caseId)) {
        started.add(e.caseId);
        const item = itemOf.get(e.caseId);
        if (item) run.started(item);
      }
      if (e.type === 'case-finished') {
        results.set(e.result.caseId, [...(results.get(e.result.caseId) ?? []), e.result]);
        run.appendOutput(transcript(e.spec, e.result), undefined, itemOf.get(e.result.caseId));
      }
      if (e.type === 'run-stopped') {
        run.appendOutput(`PromptGate stopped the run: ${e.reason}\r\n`);
        void vs.window.showErrorMessage(`PromptGate stopped the run: ${e.reason}`);
      }
    }
    const verdicts = verdictsForRun(specs, results, baselines, { override, policy: config.verdicts, sampling: config.sampling, completeSuites: new Set() });
    const outcomes = caseOutcomes(specs, results, verdicts, baselines);
    for (const o of outcomes) {
      this.outcomes.set(o.spec.id, o);
      if (o.verdict.kind !== 'skipped') this.ranFingerprints.set(o.spec.id, caseFingerprint(o.spec));
      const item = itemOf.get(o.spec.id);
      if (!item) continue;
      const duration = o.results.reduce((s, r) => s + (r.source === 'live' ? (r.latencyMs ?? 0) : 0), 0);
      const v = o.verdict;
      const location = new vs.Location(vs.Uri.file(o.spec.file), toRange(vs, o.spec.range));
      if (v.kind === 'skipped') run.skipped(item);
      else if (v.kind === 'errored') {
        const r = o.results.find((x) => x.error);
        run.errored(item, Object.assign(new vs.TestMessage(`${r?.error?.kind ?? 'error'}: ${r?.error?.message ?? 'every sample errored'}`), { location }), duration);
      } else if (v.kind === 'regressed') {
        const message = o.change ? vs.TestMessage.diff(`Regressed: ${reasonOf(o)}`, o.change.before, o.change.after) : new vs.TestMessage(`Regressed: ${reasonOf(o)}`);
        message.location = location;
        run.failed(item, message, duration);
      } else if (v.passing || v.kind === 'fail' || v.kind === 'flaky') {
        if (v.passing) run.passed(item, duration);
        else run.failed(item, Object.assign(new vs.TestMessage(`${v.kind === 'fail' ? 'Fails, as approved' : 'Flaky'}: ${reasonOf(o)}`), { location }), duration);
      } else run.failed(item, Object.assign(new vs.TestMessage(reasonOf(o)), { location }), duration);
    }
    return outcomes;
  }

  private publishDiagnostics(root: string, diagnostics: readonly Diagnostic[]): void {
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
    // Files of this folder without problems get their diagnostics cleared.
    this.diagnostics.forEach((uri) => {
      if (uri.fsPath.startsWith(root + path.sep) && !byFile.has(uri.fsPath) && !this.outcomeDiagnostics.has(uri.fsPath)) this.diagnostics.delete(uri);
    });
    for (const [file, list] of byFile) this.diagnostics.set(vs.Uri.file(file), [...list, ...(this.outcomeDiagnostics.get(file) ?? [])]);
    this.fileDiagnostics.set(root, byFile);
  }

  private readonly fileDiagnostics = new Map<string, Map<string, vscode.Diagnostic[]>>();
  private outcomeDiagnostics = new Map<string, vscode.Diagnostic[]>();

  /** Regressions and failures as warnings on their case, replaced on every run. */
  private publishOutcomeDiagnostics(): void {
    const { vs } = this;
    const next = new Map<string, vscode.Diagnostic[]>();
    // At each case's current place: an edit since the run may have moved it (or removed it).
    const current = new Map(this.allCases().map((c) => [c.id, c]));
    for (const o of this.outcomes.values()) {
      const v = o.verdict;
      const spec = current.get(o.spec.id);
      if (!spec || (v.passing && v.kind !== 'regressed')) continue;
      if (v.kind === 'skipped' || v.kind === 'removed') continue;
      const d = new vs.Diagnostic(toRange(vs, spec.range), `PromptGate ${v.kind === 'new' ? 'failure' : v.kind}: ${reasonOf(o)}`, vs.DiagnosticSeverity.Warning);
      d.source = 'PromptGate';
      next.set(spec.file, [...(next.get(spec.file) ?? []), d]);
    }
    const files = new Set([...this.outcomeDiagnostics.keys(), ...next.keys()]);
    this.outcomeDiagnostics = next;
    for (const file of files) {
      const fileErrors = [...this.fileDiagnostics.values()].flatMap((m) => m.get(file) ?? []);
      this.diagnostics.set(vs.Uri.file(file), [...fileErrors, ...(next.get(file) ?? [])]);
    }
  }

  /** CodeLens: run, last verdict, diff and approve above each prompt, suite and case. */
  private lenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const { vs } = this;
    // Parsed lazily: the first lens request loads the workspace and asks again when it is done.
    if (!this.folders.size) {
      this.ensureLoaded();
      return [];
    }
    const file = doc.uri.fsPath;
    const lenses: vscode.CodeLens[] = [];
    const cases = this.allCases().filter((c) => c.file === file);
    const promptCases = this.allCases().filter((c) => c.prompt.file === file);
    const lens = (range: vscode.Range, title: string, command: string, args: unknown[] = [], tooltip?: string) => lenses.push(new vs.CodeLens(range, { title, command, arguments: args, tooltip }));
    if (promptCases.length) {
      const r = toRange(vs, promptCases[0].prompt.range);
      lens(r, `▶ Run ${promptCases.length} case${promptCases.length === 1 ? '' : 's'}`, 'promptgate.runCases', [promptCases.map((c) => c.id)]);
      const summary = verdictSummary(promptCases.map((c) => this.outcomes.get(c.id)).filter((o): o is CaseOutcome => !!o));
      if (summary) lens(r, summary, 'promptgate.runCases', [promptCases.map((c) => c.id)]);
    }
    // Registry labels on this content, or their drift, and Promote… (prompts without suites too).
    for (const prompt of [...this.folders.values()].flatMap((f) => f.project.prompts.filter((p) => p.file === file))) {
      for (const l of this.registry.lenses(prompt)) lens(toRange(vs, prompt.range), l.title, l.command, l.args, l.tooltip);
    }
    const suites = new Map<string, CaseSpec[]>();
    for (const c of cases) suites.set(c.suite, [...(suites.get(c.suite) ?? []), c]);
    for (const [, list] of suites) {
      const suite = this.stateFor(list[0])?.project.suites.find((s) => s.cases.includes(list[0]));
      if (suite && (suite.file !== file || suite.range.start.line !== list[0].range.start.line)) {
        const r = toRange(vs, suite.range);
        lens(r, `▶ Run suite ${suite.name}`, 'promptgate.runCases', [list.map((c) => c.id)]);
      }
    }
    // Cases that share a line (the attacks of one pack) get one set of lenses for all of them.
    const byLine = new Map<number, CaseSpec[]>();
    for (const c of cases) byLine.set(c.range.start.line, [...(byLine.get(c.range.start.line) ?? []), c]);
    for (const group of byLine.values()) {
      if (group.length < 2) continue;
      const r = toRange(vs, group[0].range);
      const ids = group.map((c) => c.id);
      lens(r, `▶ Run ${group.length} ${group[0].attack ? 'attacks' : 'cases'}`, 'promptgate.runCases', [ids]);
      const summary = verdictSummary(group.map((c) => this.outcomes.get(c.id)).filter((o): o is CaseOutcome => !!o));
      if (!summary) continue;
      lens(r, summary, 'promptgate.runCases', [ids]);
      if (group.some((c) => this.outcomes.get(c.id)?.change)) lens(r, 'Diff', 'promptgate.showDiff', []);
      lens(r, 'Approve', 'promptgate.approve', [ids]);
    }
    for (const c of cases) {
      if (byLine.get(c.range.start.line)!.length > 1) continue;
      const r = toRange(vs, c.range);
      lens(r, '▶ Run', 'promptgate.runCases', [[c.id]]);
      const o = this.outcomes.get(c.id);
      if (!o) continue;
      lens(r, verdictTitle(o), 'promptgate.runCases', [[c.id]]);
      if (o.verdict.kind === 'regressed' || o.change) lens(r, 'Diff', 'promptgate.showDiff', [c.id]);
      lens(r, 'Approve', 'promptgate.approve', [[c.id]]);
    }
    return lenses;
  }

  private async approve(ids?: string[]): Promise<void> {
    const { vs } = this;
    await this.refresh();
    const cases = ids?.length ? this.allCases().filter((c) => ids.includes(c.id)) : this.allCases();
    for (const state of this.folders.values()) {
      const mine = cases.filter((c) => this.stateFor(c) === state);
      if (!mine.length) continue;
      const approval = await planApproval({ cases: mine, wholeSuites: !ids?.length, baselinesDir: state.config.baselinesDir, runsDir: state.config.runsDir });
      if (approval.diagnostics.length) {
        void vs.window.showErrorMessage(`PromptGate: ${approval.diagnostics.map((d) => formatDiagnostic(d)).join('; ')}`);
        continue;
      }
      await writeApproval(approval);
      const n = approval.files.reduce((s, f) => s + f.approved.length, 0);
      this.log.info(`approved ${n} cases; not approved: ${approval.skipped.map((s) => `${s.caseId} (${s.reason})`).join(', ') || 'none'}`);
      void vs.window.showInformationMessage(`PromptGate: approved ${n} case${n === 1 ? '' : 's'}${approval.skipped.length ? `, ${approval.skipped.length} not approved (see the PromptGate log)` : ''}.`);
    }
  }

  /** The native diff editor between the baseline output and the current one (read-only virtual documents). */
  private async showDiff(id?: string): Promise<void> {
    const { vs } = this;
    let caseId = id;
    if (!caseId) {
      const changed = [...this.outcomes.values()].filter((o) => o.change);
      const pick = await vs.window.showQuickPick(
        changed.map((o) => ({ label: o.spec.name, description: `${o.verdict.kind} · ${o.spec.prompt.relFile} › ${o.spec.suite}`, id: o.spec.id })),
        { placeHolder: changed.length ? 'Which case?' : 'No case differs from its baseline' },
      );
      caseId = pick?.id;
    }
    const o = caseId ? this.outcomes.get(caseId) : undefined;
    if (!o?.change) {
      void vs.window.showInformationMessage('PromptGate: this case has no difference from its baseline in the last run.');
      return;
    }
    const q = encodeURIComponent(o.spec.id);
    const left = vs.Uri.parse(`promptgate-output:/baseline/${encodeURIComponent(o.spec.name)}.txt?${q}`);
    const right = vs.Uri.parse(`promptgate-output:/current/${encodeURIComponent(o.spec.name)}.txt?${q}`);
    await vs.commands.executeCommand('vscode.diff', left, right, `${o.spec.name}: baseline ↔ current (${o.verdict.kind})`, { preview: true });
  }

  private outputDocument(uri: vscode.Uri): string {
    const o = this.outcomes.get(decodeURIComponent(uri.query));
    if (!o?.change) return '';
    return uri.path.startsWith('/baseline/') ? o.change.before : o.change.after;
  }

  /** Stores the key in SecretStorage; it never reaches settings or files. */
  private async setApiKey(value?: string): Promise<void> {
    const key = value ?? (await this.vs.window.showInputBox({ prompt: 'OpenAI API key (stored in VS Code SecretStorage)', password: true, ignoreFocusOut: true }));
    if (!key) return;
    await this.context.secrets.store(SECRET_KEY, key);
    void this.vs.window.showInformationMessage('PromptGate: API key stored in SecretStorage.');
  }

  private async createPromptFile(): Promise<void> {
    const { vs } = this;
    const folder = vs.workspace.workspaceFolders?.[0];
    if (!folder) return;
    const name = await vs.window.showInputBox({ prompt: 'Name of the new prompt', value: 'my-prompt', validateInput: (v) => (/^[a-z0-9][a-z0-9-]*$/.test(v) ? undefined : 'lower-case letters, digits and -') });
    if (!name) return;
    const uri = vs.Uri.joinPath(folder.uri, `${name}.prompt.yml`);
    const text = `name: ${name}\nversion: 0.1.0\nmodel: openai/gpt-4o-mini\nmodelParameters:\n  temperature: 0.2\nvariables:\n  input: { type: string }\nmessages:\n  - role: system\n    content: You are a helpful assistant.\n  - role: user\n    content: "{{ input }}"\nsuites:\n  golden:\n    cases:\n      - name: first case\n        vars: { input: Hello }\n        assert:\n          - type: icontains\n            value: hello\n`;
    await vs.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
    await vs.window.showTextDocument(uri);
  }

  /** The significance level for attack-rate rises: the first folder's verdict policy (they rarely differ). */
  private policyAlpha(): number {
    return [...this.folders.values()][0]?.config.verdicts.alpha ?? 0.05;
  }

  /** For tests and other extensions. */
  get api() {
    return {
      refresh: () => this.refresh(),
      runCases: (ids: string[], token?: vscode.CancellationToken) => this.runCases(ids, token),
      controller: this.controller,
      outcome: (id: string) => this.outcomes.get(id),
      lastRun: () => ({ count: this.runCount, ids: [...this.lastRun] }),
      resultsVisible: () => this.results.visible,
      resultsRendered: () => this.results.rendered,
      settingsProblems: () => [...this.reportedSettings],
      timings: () => ({ ...this.timings }),
      cases: () => this.allCases().map((c) => ({ id: c.id, name: c.name, file: c.file, line: c.range.start.line })),
      profiles: () => [...this.profiles],
      watching: () => this.watches.size,
      attacks: () => this.results.attacks,
      registryStatus: (file: string) => this.registry.statusOf(file),
    };
  }
}

interface Watch {
  /** Test item ids the continuous run covers (undefined: everything). */
  include?: string[];
  exclude: Set<string>;
  samples?: number;
}

/** Whether a continuous run covers a case, given the ids of the case's item and its ancestors. */
function watches(w: Watch, ancestry: readonly string[]): boolean {
  if (ancestry.some((id) => w.exclude.has(id))) return false;
  return !w.include || ancestry.some((id) => w.include!.includes(id));
}

function* collect(items: vscode.TestItemCollection): Generator<vscode.TestItem> {
  const list: vscode.TestItem[] = [];
  items.forEach((i) => list.push(i));
  yield* list;
}

function reasonOf(o: CaseOutcome): string {
  const v = o.verdict;
  const r = o.results.find((x) => x.status === 'failed') ?? o.results.find((x) => x.status === 'errored');
  const failing = r?.error ? `${r.error.kind}: ${r.error.message}` : r?.assertions.filter((a) => !a.pass).map((a) => `${a.type}: ${a.reason}`).join('; ');
  const rate = v.baseline ? `pass rate ${pct(v.baseline.rate)} → ${pct(v.current.rate)}` : `pass rate ${pct(v.current.rate)} (${v.current.passed}/${v.current.total})`;
  return [rate, v.driver && `driver: ${v.driver.assertion} (${v.driver.kind})`, failing, v.note].filter(Boolean).join('; ');
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

function verdictTitle(o: CaseOutcome): string {
  const v = o.verdict;
  const rate = `${v.current.passed}/${v.current.total}`;
  switch (v.kind) {
    case 'regressed':
      return `⚠ regressed ${v.baseline ? pct(v.baseline.rate) : ''} → ${pct(v.current.rate)}`;
    case 'errored':
      return '✗ errored';
    case 'flaky':
      return `~ flaky ${rate}`;
    case 'improved':
      return `↑ improved ${rate}`;
    case 'skipped':
      return '○ skipped';
    default:
      return v.passing ? `✓ ${rate}` : `✗ ${rate}${v.kind === 'fail' ? ' (approved failing)' : ''}`;
  }
}

function verdictSummary(outcomes: CaseOutcome[]): string | undefined {
  if (!outcomes.length) return undefined;
  const regressed = outcomes.filter((o) => o.verdict.kind === 'regressed').length;
  if (regressed) return `⚠ ${regressed} regressed`;
  const passing = outcomes.filter((o) => o.verdict.passing).length;
  return `${passing === outcomes.length ? '✓' : '✗'} ${passing}/${outcomes.length}`;
}

/** The run's output for one sample: rendered messages, output, scores, tokens and latency. */
function transcript(spec: CaseSpec, r: CaseResult): string {
  const lines = [`── ${spec.prompt.relFile} › ${spec.suite} › ${spec.name} #${r.sample}: ${r.status}`];
  for (const m of spec.request.messages) lines.push(`[${m.role}] ${m.content}`);
  if (r.output !== undefined) lines.push(`[output] ${r.output}`);
  for (const a of r.assertions) lines.push(`  ${a.pass ? '✓' : '✗'} ${a.type} (score ${a.score.toFixed(2)}): ${a.reason}`);
  if (r.error) lines.push(`  error ${r.error.kind}: ${r.error.message}`);
  lines.push(`  ${r.source ?? ''} · ${Math.round(r.latencyMs ?? 0)} ms · ${r.usage?.totalTokens ?? 0} tokens${r.cost !== undefined ? ` · $${r.cost.toFixed(6)}` : ''}`, '');
  // The test output is a terminal: every line break, including those inside outputs, is CRLF.
  return lines.join('\n').replace(/\r?\n/g, '\r\n');
}

