import type * as vscode from 'vscode';
import * as path from 'node:path';
import { describeLabel, openRegistry, registryKey, registryLocation, registryStatus, type EditorSettings, type Project, type PromptSpec, type Registry, type RegistryStatus, type ResolvedConfig, type VersionRecord } from '../core';

type VSCode = typeof vscode;

export const REGISTRY_SCHEME = 'promptgate-registry';

/** What the registry view needs from the extension: its folders and their parsed projects. */
export interface RegistryHost {
  folders(): readonly { folder: vscode.WorkspaceFolder; config: ResolvedConfig; project: Project }[];
  settings(scope: vscode.Uri): EditorSettings;
  refresh(): Promise<void>;
  /** Runs cases (by id) in the Test Explorer, with this many samples each when given. */
  runCases(ids: string[], samples?: number): Promise<unknown>;
  lensesChanged(): void;
  log: vscode.LogOutputChannel;
  /** The process environment, from the composition root (PROMPTGATE_REGISTRY, the actor's name). */
  env: Record<string, string | undefined>;
}

export interface Open {
  /** The location it was opened for; a changed setting or config opens another. */
  where: string;
  kind: 'git' | 'folder';
  registry: Registry;
  /** Per registered prompt: its versions' numbers and content hashes, and its labels. */
  snapshots: Map<string, { versions: Pick<VersionRecord, 'number' | 'contentHash'>[]; labels: Record<string, number> }>;
  loading?: Promise<void>;
  loadedAt?: number;
  error?: string;
  watcher?: vscode.Disposable;
  timer?: NodeJS.Timeout;
  poll?: NodeJS.Timeout;
  /** The registry's revision mark when it was last read. */
  revision?: string;
}

export type PromoteArgs = { file?: string; label?: string; force?: boolean; reason?: string; message?: string; yes?: boolean };
export type RollbackArgs = { file?: string; key?: string; label?: string; yes?: boolean };
/** What the promotion command returns (to keybindings, tasks and tests). */
export type PromoteOutcome = { label: string; refused: string[] } | { label: string; version: number; from: number | null; created: boolean; forced?: string };
export type HistoryArgs = { file?: string; key?: string; compare?: [string, string] };

/**
 * The registry in the editor: each folder's open registry (watched, polled, re-read) and its labels
 * and drift as CodeLens on each prompt. Its commands are in registry-commands.ts. Core decides
 * (evidence, policy, versions, drift); this only reads and shows.
 */
export class RegistryView {
  readonly open = new Map<string, Open>();

  constructor(
    private readonly vs: VSCode,
    private readonly host: RegistryHost,
  ) {}

  register(context: vscode.ExtensionContext): void {
    const { vs } = this;
    context.subscriptions.push(
      // Others promote while this window is in the background: look again when it comes back.
      vs.window.onDidChangeWindowState((s) => {
        if (s.focused) for (const [root, o] of this.open) if (o.kind === 'git' && Date.now() - (o.loadedAt ?? 0) > 30_000) void this.reload(root, true);
      }),
      vs.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('promptgate.registry') && !e.affectsConfiguration('promptgate.registryRefreshSeconds')) return;
        this.closeAll();
        this.host.lensesChanged();
      }),
      { dispose: () => this.closeAll() },
    );
  }

  /** Registry lenses for the prompt at `file`: labels on this content, drift, and Promote… */
  lenses(prompt: PromptSpec): { title: string; command: string; args: unknown[]; tooltip?: string }[] {
    const state = this.host.folders().find((f) => f.project.prompts.includes(prompt));
    if (!state) return [];
    const o = this.registryOf(state.folder, state.config);
    if (!o) return [];
    const out: { title: string; command: string; args: unknown[]; tooltip?: string }[] = [];
    const file = { file: prompt.file };
    // A registry that cannot be read says so (with the reason as the tooltip) rather than show stale labels.
    if (o.error) return [{ title: '$(error) registry unavailable', command: 'promptgate.showHistory', args: [file], tooltip: o.error }];
    const status = this.status(o, prompt);
    for (const l of status?.labels ?? []) {
      out.push(
        l.current
          ? { title: `$(tag) ${describeLabel(status!, l)}`, command: 'promptgate.showHistory', args: [file] }
          : { title: `$(warning) ${describeLabel(status!, l)}`, command: 'promptgate.showHistory', args: [{ ...file, compare: [l.label, 'file'] }] },
      );
    }
    if (status && !status.labels.length && status.published !== undefined) out.push({ title: `$(tag) v${status.published}, no label`, command: 'promptgate.showHistory', args: [file] });
    if (this.vs.workspace.isTrusted) out.push({ title: 'Promote…', command: 'promptgate.promote', args: [file] });
    return out;
  }

  /** For tests: the status a lens shows, once the registry is loaded. */
  async statusOf(file: string): Promise<RegistryStatus | undefined> {
    const found = this.promptAt(file);
    if (!found) return undefined;
    const o = this.registryOf(found.state.folder, found.state.config);
    if (!o) return undefined;
    await (o.loading ?? this.reload(found.state.folder.uri.fsPath));
    return this.status(o, found.prompt);
  }

  status(o: Open, prompt: PromptSpec): RegistryStatus | undefined {
    const key = registryKey(prompt);
    const snap = o.snapshots.get(key);
    if (!snap) return undefined;
    return registryStatus(key, prompt.versionId, snap.versions, snap.labels);
  }

  /** The open registry of a folder (opened, watched and loaded on first use); undefined where it may not be read. */
  registryOf(folder: vscode.WorkspaceFolder, config: ResolvedConfig): Open | undefined {
    const { vs } = this;
    const root = folder.uri.fsPath;
    const settings = this.host.settings(folder.uri);
    const opts = { flag: settings.registry || undefined, env: this.host.env, cwd: root };
    const loc = registryLocation(config, opts);
    // A git registry runs git on a URL the workspace names: not in Restricted Mode.
    if (loc.kind === 'git' && !vs.workspace.isTrusted) return undefined;
    const where = loc.kind === 'git' ? `git+${loc.url}` : loc.path;
    let o = this.open.get(root);
    if (o?.where === where) return o;
    if (o) this.close(o);
    o = { where, kind: loc.kind, registry: openRegistry(config, opts), snapshots: new Map() };
    this.open.set(root, o);
    if (loc.kind === 'folder') {
      // Every change to the folder (another window, the CLI) reloads the lenses. Inside the workspace
      // the pattern hangs off the workspace folder, so it works before the registry folder exists.
      const rel = path.relative(root, loc.path);
      const inside = rel && !rel.startsWith('..') && !path.isAbsolute(rel);
      const w = vs.workspace.createFileSystemWatcher(inside ? new vs.RelativePattern(folder, `${rel.split(path.sep).join('/')}/prompts/**`) : new vs.RelativePattern(vs.Uri.file(loc.path), 'prompts/**'));
      let timer: NodeJS.Timeout | undefined;
      const changed = () => {
        clearTimeout(timer);
        timer = setTimeout(() => void this.reload(root), 150);
      };
      w.onDidChange(changed);
      w.onDidCreate(changed);
      w.onDidDelete(changed);
      o.watcher = w;
      // File events can be late or missing (network drives, remote hosts, busy watchers): a stat of
      // each audit log every 2 s catches any change the watcher did not report.
      o.poll = setInterval(() => void this.poll(root), 2_000);
      o.poll.unref?.();
    }
    // Also on a timer: a git remote has no events, and a shared drive's may not reach this machine.
    if (settings.registryRefreshSeconds > 0) {
      o.timer = setInterval(() => void this.reload(root, loc.kind === 'git'), settings.registryRefreshSeconds * 1000);
      o.timer.unref?.();
    }
    void this.reload(root);
    return o;
  }

  /** Reads every registered prompt of the folder's project from its registry (fetching first when asked). */
  reload(root: string, fetch = false): Promise<void> {
    const o = this.open.get(root);
    const state = this.host.folders().find((f) => f.folder.uri.fsPath === root);
    if (!o || !state) return Promise.resolve();
    const next = (async () => {
      await o.loading?.catch(() => undefined);
      try {
        if (fetch) await o.registry.store.refresh();
        const keys = [...new Set(state.project.prompts.map(registryKey))];
        // Taken before reading: a change during the read shows up as a new revision at the next poll.
        o.revision = await o.registry.revision(keys);
        const snapshots = new Map<string, Open['snapshots'] extends Map<string, infer S> ? S : never>();
        for (const key of keys) {
          const versions = (await o.registry.versions(key)).map((v) => ({ number: v.number, contentHash: v.contentHash }));
          snapshots.set(key, { versions, labels: versions.length ? await o.registry.labels(key) : {} });
        }
        o.snapshots = snapshots;
        o.error = undefined;
      } catch (err) {
        o.error = (err as Error).message;
        this.host.log.warn(`registry ${o.where}: ${o.error}`);
      }
      o.loadedAt = Date.now();
      this.host.lensesChanged();
    })();
    o.loading = next;
    return next;
  }

  /** After a project refresh: a prompt file may have appeared whose registry entry was not read yet. */
  projectChanged(): void {
    for (const state of this.host.folders()) {
      const o = this.open.get(state.folder.uri.fsPath);
      if (o?.loadedAt && state.project.prompts.some((p) => !o.snapshots.has(registryKey(p)))) void this.reload(state.folder.uri.fsPath);
    }
  }

  private close(o: Open): void {
    o.watcher?.dispose();
    clearInterval(o.timer);
    clearInterval(o.poll);
  }

  private async poll(root: string): Promise<void> {
    const o = this.open.get(root);
    if (!o || o.revision === undefined) return;
    const revision = await o.registry.revision([...o.snapshots.keys()]).catch(() => undefined);
    if (revision !== undefined && revision !== o.revision) await this.reload(root);
  }

  private closeAll(): void {
    for (const o of this.open.values()) this.close(o);
    this.open.clear();
  }

  promptAt(file: string | undefined): { prompt: PromptSpec; state: ReturnType<RegistryHost['folders']>[number] } | undefined {
    if (!file) return undefined;
    for (const state of this.host.folders()) {
      const prompt = state.project.prompts.find((p) => p.file === file);
      if (prompt) return { prompt, state };
    }
    return undefined;
  }

  /** The prompt a command is about: the argument, else the active editor, else the user picks one. */
}
