import type * as vscode from 'vscode';
import { Baselines, formatDiagnostic, planApproval, rejudgeOutcomes, suitesWith, writeApproval } from '../core';
import type { EditorRunOptions } from './run-handler';
import { SECRET_KEY, type EditorState } from './state';

export interface CommandDeps {
  state: EditorState;
  log: vscode.LogOutputChannel;
  refresh(): Promise<void>;
  runCases(ids: string[], options?: EditorRunOptions): Promise<unknown>;
  /** Shows the outcomes again after they changed without a run (an approval). */
  present(): void;
}

/** The palette commands that are not runs: approve, diff, API key, new prompt file. */
export class Commands {
  constructor(
    private readonly vs: typeof vscode,
    private readonly context: vscode.ExtensionContext,
    private readonly deps: CommandDeps,
  ) {}

  register(subscriptions: vscode.Disposable[]): void {
    const { vs } = this;
    subscriptions.push(
      vs.commands.registerCommand('promptgate.runAll', () => this.runCommand()),
      vs.commands.registerCommand('promptgate.runFile', (uri?: vscode.Uri) => this.runCommand((uri ?? vs.window.activeTextEditor?.document.uri)?.fsPath)),
      vs.commands.registerCommand('promptgate.runAdversarial', () => this.runCommand(undefined, 'adversarial')),
      vs.commands.registerCommand('promptgate.runFresh', (uri?: vscode.Uri) => this.runCommand(uri?.fsPath, undefined, { fresh: true })),
      vs.commands.registerCommand('promptgate.approve', (ids?: string[]) => this.approve(ids)),
      vs.commands.registerCommand('promptgate.showDiff', (id?: string) => this.showDiff(id)),
      vs.commands.registerCommand('promptgate.setApiKey', (value?: string) => this.setApiKey(value)),
      vs.commands.registerCommand('promptgate.createPromptFile', () => this.createPromptFile()),
      vs.workspace.registerTextDocumentContentProvider('promptgate-output', { provideTextDocumentContent: (uri) => this.outputDocument(uri) }),
    );
  }

  private async runCommand(file?: string, kind?: 'adversarial', options?: EditorRunOptions): Promise<unknown> {
    await this.deps.refresh();
    const ids = this.deps.state
      .allCases()
      .filter((c) => (!file || c.prompt.file === file || c.file === file) && (!kind || c.suiteKind === kind))
      .map((c) => c.id);
    if (!ids.length) {
      void this.vs.window.showInformationMessage('PromptGate: no cases to run here.');
      return undefined;
    }
    return this.deps.runCases(ids, options);
  }

  /**
   * Approves the latest recorded results as baselines; the verdicts shown are judged again against
   * them at once. Cases whose latest run is too thin for a baseline are not approved: the message
   * offers to top them up (a baseline run of those cases, then approve).
   */
  async approve(ids?: string[]): Promise<void> {
    const { vs } = this;
    const { state, log } = this.deps;
    await this.deps.refresh();
    const cases = ids?.length ? state.allCases().filter((c) => ids.includes(c.id)) : state.allCases();
    const weak: { id: string; reason: string }[] = [];
    let approvedCount = 0;
    for (const folder of state.folders.values()) {
      const mine = cases.filter((c) => state.stateFor(c) === folder);
      if (!mine.length) continue;
      const approval = await planApproval({ cases: mine, wholeSuites: !ids?.length, baselinesDir: folder.config.baselinesDir, runsDir: folder.config.runsDir, sampling: folder.config.sampling });
      if (approval.diagnostics.length) {
        void vs.window.showErrorMessage(`PromptGate: ${approval.diagnostics.map((d) => formatDiagnostic(d)).join('; ')}`);
        continue;
      }
      await writeApproval(approval);
      const n = approval.files.reduce((s, f) => s + f.approved.length, 0);
      const refused = [...approval.skipped.map((s) => `${s.caseId} (${s.reason})`), ...approval.weak.map((w) => `${w.spec.id} (too thin for a baseline: ${w.reason})`)];
      log.info(`approved ${n} cases; not approved: ${refused.join(', ') || 'none'}`);
      approvedCount += n;
      weak.push(...approval.weak.map((w) => ({ id: w.spec.id, reason: w.reason })));
      if (!approval.weak.length) void vs.window.showInformationMessage(`PromptGate: approved ${n} case${n === 1 ? '' : 's'}${approval.skipped.length ? `, ${approval.skipped.length} not approved (see the PromptGate log)` : ''}.`);
      // The outcomes on screen were judged against the old baselines.
      const shown = mine.map((c) => state.outcomes.get(c.id)).filter((o) => o !== undefined);
      if (!shown.length) continue;
      const { baselines } = await Baselines.load(folder.config.baselinesDir, suitesWith(folder.project.suites, mine));
      for (const o of rejudgeOutcomes(shown, baselines, folder.config)) state.outcomes.set(o.spec.id, o);
    }
    this.deps.present();
    if (!weak.length) return;
    const many = weak.length === 1 ? 'case has' : 'cases have';
    const choice = await vs.window.showWarningMessage(
      `PromptGate: approved ${approvedCount}; ${weak.length} ${many} too few samples to be a baseline (${weak[0].reason}).`,
      { detail: 'A baseline must be strong enough to judge later runs against. Topping up samples those cases until it is (a baseline run), then approves them.' },
      'Top up and approve',
    );
    if (choice === 'Top up and approve') await this.deps.runCases(weak.map((w) => w.id), { approve: true });
  }

  /** The native diff editor between the baseline output and the current one (read-only virtual documents). */
  private async showDiff(id?: string): Promise<void> {
    const { vs } = this;
    const { outcomes } = this.deps.state;
    let caseId = id;
    if (!caseId) {
      const changed = [...outcomes.values()].filter((o) => o.change);
      const pick = await vs.window.showQuickPick(
        changed.map((o) => ({ label: o.spec.name, description: `${o.verdict.kind} · ${o.spec.prompt.relFile} › ${o.spec.suite}`, id: o.spec.id })),
        { placeHolder: changed.length ? 'Which case?' : 'No case differs from its baseline' },
      );
      caseId = pick?.id;
    }
    const o = caseId ? outcomes.get(caseId) : undefined;
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
    const o = this.deps.state.outcomes.get(decodeURIComponent(uri.query));
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
}
