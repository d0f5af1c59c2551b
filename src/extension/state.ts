import type * as vscode from 'vscode';
import { formatDiagnostic, loadConfig, loadProject, parseEditorSettings, pythonPolicy, type CaseOutcome, type CaseSpec, type Diagnostic, type EditorSettings, type Project, type ResolvedConfig } from '../core';

type VSCode = typeof vscode;

export const SECRET_KEY = 'promptgate.openaiApiKey';
export const FILE_GLOB = '**/{*.prompt.yml,*.prompt.yaml,*.suite.yml,*.suite.yaml,*.prompty,promptfooconfig.yaml,promptfooconfig.yml}';
export const isPromptGateFile = (file: string) => /(?:\.(?:(?:prompt|suite)\.ya?ml|prompty)|(?:^|[\\/])promptfooconfig\.ya?ml)$/i.test(file);
export const isConfigFile = (file: string) => /(?:^|[\\/])promptgate\.config\.ya?ml$/i.test(file);

export interface FolderState {
  folder: vscode.WorkspaceFolder;
  config: ResolvedConfig;
  project: Project;
  /** Errors in promptgate.config.yml: nothing runs until they are fixed (a run might write outside the project). */
  configErrors: string[];
}

/** What the host gives the editor from outside VS Code's API: the process environment and the file system. */
export interface EditorPorts {
  env: Record<string, string | undefined>;
  readDisk(file: string): Promise<string>;
}

/**
 * What the editor knows: each workspace folder's config and project (read as the user sees the
 * files), the latest outcome of each case, and the settings. Every room reads it; only loading
 * and runs write it.
 */
export class EditorState {
  readonly folders = new Map<string, FolderState>();
  private folderOfCase = new Map<CaseSpec, FolderState>();
  /** The latest outcome of each case, by id. */
  readonly outcomes = new Map<string, CaseOutcome>();
  /** What each case was when it last ran (core's fingerprint), so a save re-runs only what changed. */
  readonly ranFingerprints = new Map<string, string>();
  private readonly reportedSettings = new Set<string>();
  private secret?: Promise<string | undefined>;

  private caseFiles = new Set<string>();

  constructor(
    private readonly vs: VSCode,
    private readonly context: vscode.ExtensionContext,
    readonly ports: EditorPorts,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Re-reads every workspace folder (config included) through `read`; returns each folder's file diagnostics. */
  async load(): Promise<Map<string, Diagnostic[]>> {
    const out = new Map<string, Diagnostic[]>();
    const seen = new Set<string>();
    const read = (f: string) => this.read(f);
    for (const folder of this.vs.workspace.workspaceFolders ?? []) {
      const root = folder.uri.fsPath;
      seen.add(root);
      const { config, diagnostics: configDiagnostics } = await loadConfig(root, read);
      // Python runs with the user's permissions: only when the user's own setting allows it, in a trusted workspace.
      const allowPython = this.vs.workspace.isTrusted && this.settings(folder.uri).allowPython;
      const project = pythonPolicy(await loadProject({ root, paths: [root], providerDefaults: config.provider, readFile: read }), allowPython);
      this.folders.set(root, { folder, config, project, configErrors: configDiagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d)) });
      out.set(root, [...configDiagnostics, ...project.diagnostics]);
    }
    for (const key of [...this.folders.keys()]) if (!seen.has(key)) this.folders.delete(key);
    this.folderOfCase = new Map([...this.folders.values()].flatMap((f) => f.project.cases.map((c) => [c, f] as const)));
    // A suite's JSONL case files: editing or saving one is editing its suite.
    this.caseFiles = new Set([...this.folders.values()].flatMap((f) => [...f.project.cases.map((c) => c.file), ...f.project.diagnostics.map((d) => d.file)]).filter((f) => /\.jsonl$/i.test(f)));
    return out;
  }

  /** Whether `file` is a JSONL case file of a loaded suite (its cases or its errors came from it). */
  isCaseFile(file: string): boolean {
    return this.caseFiles.has(file);
  }

  /**
   * A file as the user sees it: an editor's unsaved text, else the disk. An unmodified editor is not
   * asked: after a change on disk it still shows the old text until it reloads, and a run on that
   * text would be evidence for content the file no longer has.
   */
  read(file: string): Promise<string> {
    const open = this.vs.workspace.textDocuments.find((d) => d.uri.fsPath === file);
    if (open?.isDirty) return Promise.resolve(open.getText());
    return this.ports.readDisk(file);
  }

  allCases(): CaseSpec[] {
    return [...this.folders.values()].flatMap((f) => f.project.cases);
  }

  /** Which folder a case belongs to; indexed on every load so runs of many cases stay linear. */
  stateFor(spec: CaseSpec): FolderState | undefined {
    return this.folderOfCase.get(spec);
  }

  /** The key from SecretStorage, read once (a round trip to the window) and again only when it changes. */
  apiKey(): Promise<string | undefined> {
    this.secret ??= Promise.resolve(this.context.secrets.get(SECRET_KEY));
    return this.secret;
  }

  secretChanged(): void {
    this.secret = undefined;
  }

  /** Settings checked by core's schema; an invalid one falls back to its default, said once. */
  settings(scope: vscode.Uri): EditorSettings {
    const c = this.vs.workspace.getConfiguration('promptgate', scope);
    const { settings, problems } = parseEditorSettings({ runOnSave: c.get('runOnSave'), baseURL: c.get('baseURL'), concurrency: c.get('concurrency'), samples: c.get('samples'), budget: c.get('budget'), registry: c.get('registry'), registryRefreshSeconds: c.get('registryRefreshSeconds'), allowPython: c.get('allowPython') });
    for (const p of problems) {
      if (this.reportedSettings.has(p)) continue;
      this.reportedSettings.add(p);
      this.log.warn(p);
      void this.vs.window.showWarningMessage(`PromptGate: ${p}`);
    }
    return settings;
  }

  settingsProblems(): string[] {
    return [...this.reportedSettings];
  }

  /** The significance level for attack-rate rises: the first folder's verdict policy (they rarely differ). */
  policyAlpha(): number {
    return [...this.folders.values()][0]?.config.verdicts.alpha ?? 0.05;
  }
}
