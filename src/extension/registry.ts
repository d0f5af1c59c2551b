import type * as vscode from 'vscode';
import * as path from 'node:path';
import {
  describeLabel,
  evidenceSummary,
  openRegistry,
  promotePrompt,
  collectEvidence,
  labelCheck,
  registryActor,
  registryKey,
  registryLocation,
  registryStatus,
  LABEL_NAME,
  versionRecord,
  versionText,
  type EditorSettings,
  type Project,
  type PromptSpec,
  type Registry,
  type RegistryStatus,
  type ResolvedConfig,
  type VersionRecord,
} from '../core';

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
}

interface Open {
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
 * The registry in the editor: labels and drift as CodeLens on each prompt, and the promotion,
 * rollback and history commands. Core decides (evidence, policy, versions, drift); this only asks
 * the user and shows the answer.
 */
export class RegistryView {
  private readonly open = new Map<string, Open>();

  constructor(
    private readonly vs: VSCode,
    private readonly host: RegistryHost,
  ) {}

  register(context: vscode.ExtensionContext): void {
    const { vs } = this;
    context.subscriptions.push(
      vs.commands.registerCommand('promptgate.promote', (arg?: vscode.Uri | PromoteArgs) => this.guard('promotion', () => this.promote(argsOf(arg)))),
      vs.commands.registerCommand('promptgate.rollbackLabel', (arg?: vscode.Uri | RollbackArgs) => this.guard('rollback', () => this.rollback(argsOf(arg)))),
      vs.commands.registerCommand('promptgate.showHistory', (arg?: vscode.Uri | HistoryArgs) => this.guard('history', () => this.history(argsOf(arg)))),
      vs.workspace.registerTextDocumentContentProvider(REGISTRY_SCHEME, { provideTextDocumentContent: (uri) => this.document(uri) }),
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

  private status(o: Open, prompt: PromptSpec): RegistryStatus | undefined {
    const key = registryKey(prompt);
    const snap = o.snapshots.get(key);
    if (!snap) return undefined;
    return registryStatus(key, prompt.versionId, snap.versions, snap.labels);
  }

  /** The open registry of a folder (opened, watched and loaded on first use); undefined where it may not be read. */
  private registryOf(folder: vscode.WorkspaceFolder, config: ResolvedConfig): Open | undefined {
    const { vs } = this;
    const root = folder.uri.fsPath;
    const settings = this.host.settings(folder.uri);
    const opts = { flag: settings.registry || undefined, env: process.env, cwd: root };
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
  private reload(root: string, fetch = false): Promise<void> {
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

  private promptAt(file: string | undefined): { prompt: PromptSpec; state: ReturnType<RegistryHost['folders']>[number] } | undefined {
    if (!file) return undefined;
    for (const state of this.host.folders()) {
      const prompt = state.project.prompts.find((p) => p.file === file);
      if (prompt) return { prompt, state };
    }
    return undefined;
  }

  /** The prompt a command is about: the argument, else the active editor, else the user picks one. */
  private async pickPrompt(file: string | undefined, what: string) {
    const { vs } = this;
    await this.host.refresh();
    const given = this.promptAt(file ?? vs.window.activeTextEditor?.document.uri.fsPath);
    if (given) return given;
    if (file) throw new Error(`${file} is not a prompt file PromptGate knows`);
    const all = this.host.folders().flatMap((state) => state.project.prompts.map((prompt) => ({ prompt, state })));
    if (!all.length) throw new Error('there is no prompt file in this workspace');
    const pick = await vs.window.showQuickPick(
      all.map((x) => ({ label: x.prompt.name, description: x.prompt.relFile, x })),
      { placeHolder: `Which prompt ${what}?` },
    );
    return pick?.x;
  }

  private requireTrust(what: string): boolean {
    if (this.vs.workspace.isTrusted) return true;
    void this.vs.window.showWarningMessage(`PromptGate: ${what} writes to the registry, which is disabled in an untrusted workspace.`);
    return false;
  }

  /** "PromptGate: Promote Prompt Version…": pick the label, see the evidence and the policy, confirm. */
  private async promote(args: PromoteArgs): Promise<PromoteOutcome | undefined> {
    const { vs } = this;
    if (!this.requireTrust('Promotion')) return undefined;
    const found = await this.pickPrompt(args.file, 'to promote');
    if (!found) return undefined;
    const { prompt, state } = found;
    const o = this.registryOf(state.folder, state.config);
    if (!o) return undefined;
    // The registry records the file as saved: an unsaved edit is saved first, or the promotion stops.
    const doc = vs.workspace.textDocuments.find((d) => d.uri.fsPath === prompt.file);
    if (doc?.isDirty) {
      const save = args.yes || (await vs.window.showWarningMessage(`${prompt.relFile} has unsaved changes.`, { modal: true, detail: 'The registry records the saved file. Save it, then promote what was saved?' }, 'Save and Continue')) === 'Save and Continue';
      if (!save || !(await doc.save())) return undefined;
      return this.promote({ ...args, file: prompt.file });
    }
    await o.loading?.catch(() => undefined);
    const status = this.status(o, prompt) ?? registryStatus(registryKey(prompt), prompt.versionId, [], {});
    // Read once (it scans the run records): every label's check below is computed from it.
    const evidence = await collectEvidence(state.project, prompt, state.config, new Date());
    let label = args.label;
    if (label === undefined) {
      const names = [...new Set(['production', 'staging', ...Object.keys(state.config.registry.labels), ...status.labels.map((l) => l.label)])];
      const items = names.map((name) => {
        const check = labelCheck(evidence, state.config, name);
        const at = status.labels.find((l) => l.label === name);
        return {
          label: name,
          description: at ? (at.current ? `already v${at.version}` : `now v${at.version}`) : 'not set yet',
          detail: check.problems.length ? `$(error) ${check.problems.length} missing: ${check.problems[0]}` : `$(pass) the evidence meets its policy: ${check.policy}`,
        };
      });
      const other = { label: 'Another label…', description: '', detail: 'A new label name; its policy is promptgate.config.yml registry.labels, else every suite passing on this content' };
      const pick = await vs.window.showQuickPick([...items, other], { placeHolder: `Promote ${status.key} (content ${prompt.versionId}) to which label?`, matchOnDetail: true });
      if (!pick) return undefined;
      label = pick === other ? await vs.window.showInputBox({ prompt: 'Label name', validateInput: (v) => (LABEL_NAME.test(v) ? undefined : 'letters, digits, . _ and -, starting with a letter or digit') }) : pick.label;
      if (!label) return undefined;
    }
    if (!LABEL_NAME.test(label)) throw new Error(`'${label}' is not a label name (letters, digits, . _ and -)`);
    const check = labelCheck(evidence, state.config, label);
    const current = status.labels.find((l) => l.label === label);
    const target = status.published !== undefined ? `v${status.published}` : `a new version (v${(status.latest ?? 0) + 1})`;
    const detail = [
      `${label}: ${current ? `v${current.version} → ` : ''}${target}, content ${prompt.versionId}`,
      '',
      `Evidence: ${evidenceSummary(evidence)}`,
      `Policy for ${label}: ${check.policy}`,
      ...(check.problems.length ? ['', 'Missing:', ...check.problems.map((p) => `• ${p}`)] : ['', 'The evidence meets the policy.']),
    ].join('\n');
    let force: string | undefined;
    if (args.yes) {
      // Asked for without questions (a keybinding, a task, a test): a missing evidence needs force and a reason.
      if (check.problems.length && !args.force) return this.refused(label, check.problems);
      if (check.problems.length && !args.reason?.trim()) throw new Error('a forced promotion needs a reason (it goes into the audit log)');
      force = check.problems.length ? args.reason : undefined;
    } else {
      // Missing evidence: the first offer is to gather it (run this prompt's suites with the samples
      // the policy asks for), then ask again; forcing is the second.
      const minSamples = state.config.registry.labels[label]?.minSamples;
      const gather = `Run the Suites${minSamples ? ` (${minSamples} samples)` : ''}`;
      const choice = await vs.window.showInformationMessage(`Promote ${status.key} to ${label}?`, { modal: true, detail }, ...(check.problems.length ? [gather, 'Force with a Reason…'] : ['Promote']));
      if (!choice) return undefined;
      if (choice === gather) {
        await this.host.runCases(state.project.cases.filter((c) => c.prompt === prompt).map((c) => c.id), minSamples);
        return this.promote({ ...args, file: prompt.file, label });
      }
      if (choice !== 'Promote') {
        force = await vs.window.showInputBox({ prompt: `Why move ${label} without the evidence? (kept in the audit log)`, ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : 'a reason is required') });
        if (!force?.trim()) return undefined;
      }
    }
    const result = await vs.window.withProgress({ location: vs.ProgressLocation.Notification, title: `PromptGate: promoting ${status.key} to ${label}…` }, () =>
      promotePrompt(o.registry, state.project, prompt, state.config, { label: label!, actor: registryActor(process.env), at: new Date(), message: args.message, force }),
    );
    await this.reload(state.folder.uri.fsPath);
    if (!result.ok) return this.refused(label, result.problems);
    const text = `${label}: ${result.version.prompt} ${result.from === null ? '' : `v${result.from} → `}v${result.version.number}${result.forced ? ` (forced: ${result.forced})` : ''}`;
    this.host.log.info(`promoted ${text}; evidence: ${evidenceSummary(result.evidence)}`);
    void vs.window.showInformationMessage(`PromptGate: ${text}`);
    return { label, version: result.version.number, from: result.from, created: result.created, forced: result.forced };
  }

  private refused(label: string, problems: string[]): PromoteOutcome {
    void this.vs.window.showWarningMessage(`PromptGate: ${label} was not moved: ${problems.join('; ')}`);
    return { label, refused: problems };
  }

  /** The registered name a command is about: the prompt file's, else one the user picks from the registry. */
  private async pickKey(args: { file?: string; key?: string }, what: string): Promise<{ key: string; o: Open; root: string; prompt?: PromptSpec } | undefined> {
    const { vs } = this;
    if (args.key) {
      const state = this.host.folders()[0];
      if (!state) throw new Error('no workspace folder is open');
      const o = this.registryOf(state.folder, state.config);
      if (!o) throw new Error('the registry cannot be read in an untrusted workspace');
      return { key: args.key, o, root: state.folder.uri.fsPath };
    }
    const found = await this.pickPrompt(args.file, what);
    if (!found) return undefined;
    const o = this.registryOf(found.state.folder, found.state.config);
    if (!o) throw new Error('the registry cannot be read in an untrusted workspace');
    await o.loading?.catch(() => undefined);
    if (o.error) throw new Error(`the registry at ${o.where} cannot be read: ${o.error}`);
    const key = registryKey(found.prompt);
    if (!o.snapshots.get(key)?.versions.length) {
      void vs.window.showInformationMessage(`PromptGate: ${key} is not in the registry yet. Promote it first.`);
      return undefined;
    }
    return { key, o, root: found.state.folder.uri.fsPath, prompt: found.prompt };
  }

  /** "PromptGate: Roll Back Label…": moves a label back to the version it pointed at before. */
  private async rollback(args: RollbackArgs) {
    const { vs } = this;
    if (!this.requireTrust('Rollback')) return undefined;
    const target = await this.pickKey(args, 'to roll back');
    if (!target) return undefined;
    const { key, o, root } = target;
    const labels = await o.registry.labels(key);
    let label = args.label;
    if (label === undefined) {
      const audit = await o.registry.audit(key);
      const pick = await vs.window.showQuickPick(
        Object.entries(labels).map(([name, version]) => {
          const moves = audit.filter((e) => e.label === name);
          return { label: name, description: `now v${version}`, detail: moves.length > 1 ? `${moves.length} moves; the last by ${moves.at(-1)!.actor} at ${moves.at(-1)!.at}` : 'never moved since it was set' };
        }),
        { placeHolder: Object.keys(labels).length ? `Roll back which label of ${key}?` : `${key} has no labels` },
      );
      label = pick?.label;
      if (!label) return undefined;
    }
    if (labels[label] === undefined) throw new Error(`${key} has no label '${label}'`);
    if (!args.yes) {
      const choice = await vs.window.showWarningMessage(`Roll back ${label} of ${key}?`, { modal: true, detail: `${label} points at v${labels[label]}. It moves back to the version it pointed at before; the audit log records the rollback.` }, 'Roll Back');
      if (choice !== 'Roll Back') return undefined;
    }
    const { from, to } = await o.registry.rollback(key, label, { actor: registryActor(process.env), at: new Date().toISOString() });
    await this.reload(root);
    this.host.log.info(`rolled back ${label} of ${key}: v${from} → v${to}`);
    void vs.window.showInformationMessage(`PromptGate: ${label} of ${key} rolled back, v${from} → v${to}.`);
    return { label, from, to };
  }

  /** "PromptGate: Show Prompt History": versions and label moves; any two versions (or the file) in the diff editor. */
  private async history(args: HistoryArgs) {
    const { vs } = this;
    const target = await this.pickKey(args, 'to show');
    if (!target) return undefined;
    const { key, o, root, prompt } = target;
    const ref = (r: string) => vs.Uri.from({ scheme: REGISTRY_SCHEME, path: `/${key}/${r}.txt`, query: new URLSearchParams({ root, ...(prompt ? { file: prompt.file } : {}) }).toString() });
    let pair = args.compare;
    if (!pair) {
      const [versions, labels, audit] = [await o.registry.versions(key), await o.registry.labels(key), await o.registry.audit(key)];
      const status = prompt ? registryStatus(key, prompt.versionId, versions, labels) : undefined;
      type Item = vscode.QuickPickItem & { pair?: [string, string]; ref?: string };
      const items: Item[] = [];
      if (status && status.published === undefined) items.push({ label: '$(edit) This file', description: `unpublished, content ${status.contentHash}`, ref: 'file' });
      items.push({ label: 'Versions', kind: vs.QuickPickItemKind.Separator });
      for (const v of [...versions].reverse()) {
        const on = Object.entries(labels).filter(([, n]) => n === v.number).map(([l]) => l);
        items.push({
          label: `v${v.number}${on.length ? `  $(tag) ${on.join(', ')}` : ''}${status?.published === v.number ? '  (this file)' : ''}`,
          description: `${v.author} · ${v.createdAt.replace('T', ' ').slice(0, 16)}${v.semver ? ` · ${v.semver}` : ''} · ${v.contentHash}`,
          detail: [v.message, v.evidence ? evidenceSummary(v.evidence) : 'no evidence recorded'].filter(Boolean).join(' — '),
          ref: String(v.number),
        });
      }
      const moves = audit.filter((e) => e.action !== 'publish');
      if (moves.length) items.push({ label: 'Label moves', kind: vs.QuickPickItemKind.Separator });
      for (const e of [...moves].reverse()) {
        items.push({
          label: `${e.label}: ${e.from ? `v${e.from} → ` : ''}v${e.version}`,
          description: `${e.action}${e.reason ? ` (${e.reason})` : ''} · ${e.actor} · ${e.at.replace('T', ' ').slice(0, 16)}`,
          pair: e.from ? [String(e.from), String(e.version)] : undefined,
          ref: e.from ? undefined : String(e.version),
        });
      }
      const first = await vs.window.showQuickPick(items, { placeHolder: `${key}: pick a version (or a label move) to compare`, matchOnDescription: true });
      if (!first) return undefined;
      if (first.pair) pair = first.pair;
      else {
        const others = items.filter((i) => i.ref && i.ref !== first.ref && !i.pair);
        if (prompt && status?.published !== undefined && first.ref !== 'file') others.unshift({ label: '$(edit) This file', description: `content ${status.contentHash}`, ref: 'file' });
        const second = await vs.window.showQuickPick(others, { placeHolder: `Compare ${first.ref === 'file' ? 'this file' : `v${first.ref}`} with…` });
        if (!second?.ref) return undefined;
        pair = [first.ref!, second.ref];
      }
    }
    const [a, b] = pair;
    const title = (r: string) => (r === 'file' ? 'this file' : /^\d+$/.test(r) ? `v${r}` : r);
    const left = ref(a);
    const right = ref(b);
    await vs.commands.executeCommand('vscode.diff', left, right, `${key}: ${title(a)} ↔ ${title(b)}`, { preview: true });
    return { left: left.toString(), right: right.toString() };
  }

  /** The text of `promptgate-registry:/KEY/REF.txt?root=…&file=…`: a version (number or label) or the prompt file. */
  private async document(uri: vscode.Uri): Promise<string> {
    const [, key, name] = uri.path.split('/');
    const r = name.replace(/\.txt$/, '');
    const q = new URLSearchParams(uri.query);
    if (r === 'file') {
      const found = this.promptAt(q.get('file') ?? undefined);
      if (!found) return '';
      const current = versionRecord(found.prompt, { author: '', at: '' });
      return versionText({ ...current, number: 0 }, `# ${current.prompt}, this file (content ${current.contentHash}${current.semver ? `, ${current.semver}` : ''})`);
    }
    const o = this.open.get(q.get('root') ?? '');
    if (!o) return '';
    return versionText(await o.registry.resolve(`${key}@${r}`));
  }

  /** A command's failure is a message to the user, never an exception in the extension host. */
  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T | { error: string } | undefined> {
    try {
      return await fn();
    } catch (err) {
      const message = (err as Error).message;
      this.host.log.error(`${what} failed: ${message}`);
      void this.vs.window.showErrorMessage(`PromptGate: ${what} failed: ${message}`);
      return { error: message };
    }
  }
}

function argsOf<T extends object>(arg: vscode.Uri | T | undefined): T {
  if (!arg) return {} as T;
  // From the explorer or editor title menu: a Uri.
  if ('fsPath' in arg && typeof (arg as vscode.Uri).fsPath === 'string') return { file: (arg as vscode.Uri).fsPath } as T;
  return arg as T;
}
