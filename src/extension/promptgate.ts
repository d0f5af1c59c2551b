import type * as vscode from 'vscode';
import { Commands } from './commands';
import { Problems } from './diagnostics';
import { Lenses } from './lenses';
import { RegistryView, type RegistryHost } from './registry';
import { RegistryCommands } from './registry-commands';
import { RESULTS_VIEW, ResultsPanel } from './results';
import { RunHandler, type EditorRunOptions, type RunSummaryForEditor } from './run-handler';
import { EditorState, FILE_GLOB, SECRET_KEY, type EditorPorts } from './state';
import { TestTree } from './tree';
import { Watchers } from './watchers';

export type { RunSummaryForEditor } from './run-handler';

/**
 * The editor adapter, composed of small rooms: state (folders, outcomes, settings), the test tree,
 * the run handler (core's session → Testing API), Problems, CodeLens, watchers and commands. It
 * decides nothing about prompts, scores or baselines: core does.
 */
export class PromptGateExtension {
  private readonly state: EditorState;
  private readonly tree: TestTree;
  private readonly problems: Problems;
  private readonly runs: RunHandler;
  private readonly lenses: Lenses;
  private readonly watchers: Watchers;
  private readonly commands: Commands;
  private readonly controller: vscode.TestController;
  private readonly log: vscode.LogOutputChannel;
  private readonly status: vscode.StatusBarItem;
  private readonly lensChanged: vscode.EventEmitter<void>;
  private readonly results: ResultsPanel;
  private readonly registry: RegistryView;
  private readonly registryHost: RegistryHost;
  private readonly registryCommands: RegistryCommands;
  private profiles: vscode.TestRunProfile[] = [];
  private loading?: Promise<void>;

  /** Measured by `npm run bench` through the API. */
  readonly timings: { activateMs?: number; firstLoadMs?: number; lastLoadMs?: number; saveRefreshMs?: number; saveRunMs?: number } = {};

  constructor(
    private readonly vs: typeof vscode,
    private readonly context: vscode.ExtensionContext,
    ports: EditorPorts,
  ) {
    this.controller = vs.tests.createTestController('promptgate', 'PromptGate');
    const diagnostics = vs.languages.createDiagnosticCollection('promptgate');
    this.log = vs.window.createOutputChannel('PromptGate', { log: true });
    this.status = vs.window.createStatusBarItem(vs.StatusBarAlignment.Left, 10);
    this.lensChanged = new vs.EventEmitter<void>();
    this.state = new EditorState(vs, context, ports, this.log);
    this.results = new ResultsPanel(vs, context.extensionUri, this.state, this.log);
    this.tree = new TestTree(vs, this.controller);
    this.problems = new Problems(vs, diagnostics);
    this.registryHost = {
      folders: () => [...this.state.folders.values()],
      settings: (scope) => this.state.settings(scope),
      refresh: () => this.refresh(),
      runCases: (ids, samples) => this.runCases(ids, undefined, { samples }),
      lensesChanged: () => this.lensChanged.fire(),
      log: this.log,
      env: ports.env,
    };
    this.registry = new RegistryView(vs, this.registryHost);
    this.registryCommands = new RegistryCommands(vs, this.registryHost, this.registry);
    const lensesChanged = () => this.lensChanged.fire();
    this.commands = new Commands(vs, context, { state: this.state, log: this.log, refresh: () => this.refresh(), runCases: (ids, options) => this.runCases(ids, undefined, options), present: () => this.runs.present() });
    this.runs = new RunHandler(vs, { state: this.state, tree: this.tree, problems: this.problems, results: this.results, status: this.status, log: this.log, lensesChanged, approve: (ids) => this.commands.approve(ids) });
    this.lenses = new Lenses(vs, this.state, this.registry, () => this.ensureLoaded());
    this.watchers = new Watchers(vs, { state: this.state, tree: this.tree, log: this.log, refresh: () => this.refresh(), runCases: (ids, token, samples) => this.runCases(ids, token, { samples }), timings: this.timings });
    context.subscriptions.push(this.controller, diagnostics, this.log, this.status, this.lensChanged);
  }

  /** Registers everything; parsing waits until the Test Explorer or a command asks for it. */
  start(): void {
    const { vs, context } = this;
    this.controller.resolveHandler = async (item) => {
      if (!item) await this.refresh();
    };
    this.controller.refreshHandler = () => this.refresh();
    const run = (options: EditorRunOptions = {}) => async (request: vscode.TestRunRequest, token: vscode.CancellationToken) => {
      await this.runRequest(request, token, options);
    };
    // Run and Run with 5 samples also run continuously: the watched cases re-run whenever a file
    // they depend on changes, saved in the editor or on disk, until the user stops it.
    this.profiles = [
      this.controller.createRunProfile('Run', vs.TestRunProfileKind.Run, run(), true, undefined, true),
      this.controller.createRunProfile('Run with 5 samples', vs.TestRunProfileKind.Run, run({ samples: 5 }), false, undefined, true),
      this.controller.createRunProfile('Run fresh (no cache)', vs.TestRunProfileKind.Run, run({ fresh: true }), false),
      this.controller.createRunProfile('Run and approve as baseline', vs.TestRunProfileKind.Run, run({ approve: true }), false),
    ];
    context.subscriptions.push(
      vs.languages.registerCodeLensProvider([{ pattern: FILE_GLOB }], { onDidChangeCodeLenses: this.lensChanged.event, provideCodeLenses: (doc) => this.lenses.provide(doc) }),
      context.secrets.onDidChange((e) => {
        if (e.key === SECRET_KEY) this.state.secretChanged();
      }),
      vs.commands.registerCommand('promptgate.runCases', (ids: string[]) => this.runCases(ids)),
      vs.commands.registerCommand('promptgate.refresh', () => this.refresh()),
      vs.commands.registerCommand('promptgate.showResults', () => this.results.show()),
      vs.window.registerWebviewPanelSerializer(RESULTS_VIEW, { deserializeWebviewPanel: async (panel) => this.results.restore(panel) }),
    );
    this.commands.register(context.subscriptions);
    this.watchers.register(context.subscriptions);
    this.registry.register(context);
    this.registryCommands.register(context);
    this.status.text = '$(beaker) PromptGate';
    this.status.tooltip = 'PromptGate: no run yet';
    this.status.command = 'promptgate.showResults';
    this.status.show();
  }

  private ensureLoaded(): void {
    this.loading ??= this.refresh().catch((err) => this.log.error(`loading prompt files failed: ${String(err)}`));
  }

  /** Re-reads every workspace folder's files (open documents as they are in the editor, the config too). */
  async refresh(): Promise<void> {
    const t0 = performance.now();
    const diagnostics = await this.state.load();
    for (const [root, list] of diagnostics) this.problems.publishFiles(root, list);
    this.tree.build(this.state);
    if (this.state.outcomes.size) this.problems.publishOutcomes(this.state);
    this.registry.projectChanged();
    this.lensChanged.fire();
    this.timings.lastLoadMs = performance.now() - t0;
    this.timings.firstLoadMs ??= this.timings.lastLoadMs;
  }

  /** Runs cases by id through a TestRun, so the Test Explorer shows them. Returns what lenses and tests read. */
  async runCases(ids: readonly string[], token?: vscode.CancellationToken, options: EditorRunOptions = {}): Promise<RunSummaryForEditor | undefined> {
    if (!this.state.folders.size) await this.refresh();
    const items = ids.map((id) => this.tree.items.get(id)).filter((i): i is vscode.TestItem => !!i);
    return this.runRequest(new this.vs.TestRunRequest(items), token ?? new this.vs.CancellationTokenSource().token, options);
  }

  private async runRequest(request: vscode.TestRunRequest, token: vscode.CancellationToken, options: EditorRunOptions = {}): Promise<RunSummaryForEditor | undefined> {
    if (request.continuous && !options.approve && !options.fresh) {
      this.watchers.startWatch(request, token, options.samples);
      return undefined;
    }
    if (!this.state.folders.size) await this.refresh();
    return this.runs.run(request, token, options);
  }

  /** For tests and other extensions. */
  get api() {
    return {
      refresh: () => this.refresh(),
      runCases: (ids: string[], token?: vscode.CancellationToken, options?: EditorRunOptions) => this.runCases(ids, token, options),
      controller: this.controller,
      outcome: (id: string) => this.state.outcomes.get(id),
      lastRun: () => ({ count: this.runs.runCount, ids: [...this.runs.lastRun] }),
      status: () => ({ text: this.status.text, tooltip: this.status.tooltip }),
      resultsVisible: () => this.results.visible,
      resultsRendered: () => this.results.rendered,
      resultsCharts: () => this.results.charts,
      openRun: (runId: string) => this.results.openRun(runId),
      resultsView: () => this.results.current,
      settingsProblems: () => this.state.settingsProblems(),
      timings: () => ({ ...this.timings }),
      cases: () => this.state.allCases().map((c) => ({ id: c.id, name: c.name, file: c.file, line: c.range.start.line })),
      profiles: () => [...this.profiles],
      watching: () => this.watchers.watching,
      attacks: () => this.results.attacks,
      registryStatus: (file: string) => this.registry.statusOf(file),
    };
  }
}
