import type * as vscode from 'vscode';
import { evidenceSummary, promotePrompt, collectEvidence, labelCheck, registryActor, registryKey, registryStatus, LABEL_NAME, versionRecord, versionText, type PromptSpec } from '../core';
import { REGISTRY_SCHEME, type HistoryArgs, type Open, type PromoteArgs, type PromoteOutcome, type RegistryHost, type RegistryView, type RollbackArgs } from './registry';

type VSCode = typeof vscode;


/**
 * The registry's commands: Promote Prompt Version…, Roll Back Label…, Show Prompt History (and the
 * read-only documents the history's diffs open). Core decides (evidence, policy, versions); this
 * asks the user and shows the answer.
 */
export class RegistryCommands {
  constructor(
    private readonly vs: VSCode,
    private readonly host: RegistryHost,
    private readonly view: RegistryView,
  ) {}

  register(context: vscode.ExtensionContext): void {
    const { vs } = this;
    context.subscriptions.push(
      vs.commands.registerCommand('promptgate.promote', (arg?: vscode.Uri | PromoteArgs) => this.guard('promotion', () => this.promote(argsOf(arg)))),
      vs.commands.registerCommand('promptgate.rollbackLabel', (arg?: vscode.Uri | RollbackArgs) => this.guard('rollback', () => this.rollback(argsOf(arg)))),
      vs.commands.registerCommand('promptgate.showHistory', (arg?: vscode.Uri | HistoryArgs) => this.guard('history', () => this.history(argsOf(arg)))),
      vs.workspace.registerTextDocumentContentProvider(REGISTRY_SCHEME, { provideTextDocumentContent: (uri) => this.document(uri) }),
    );
  }

  private async pickPrompt(file: string | undefined, what: string) {
    const { vs } = this;
    await this.host.refresh();
    const given = this.view.promptAt(file ?? vs.window.activeTextEditor?.document.uri.fsPath);
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
    const o = this.view.registryOf(state.folder, state.config);
    if (!o) return undefined;
    // The registry records the file as saved: an unsaved edit is saved first, or the promotion stops.
    const doc = vs.workspace.textDocuments.find((d) => d.uri.fsPath === prompt.file);
    if (doc?.isDirty) {
      const save = args.yes || (await vs.window.showWarningMessage(`${prompt.relFile} has unsaved changes.`, { modal: true, detail: 'The registry records the saved file. Save it, then promote what was saved?' }, 'Save and Continue')) === 'Save and Continue';
      if (!save || !(await doc.save())) return undefined;
      return this.promote({ ...args, file: prompt.file });
    }
    await o.loading?.catch(() => undefined);
    const status = this.view.status(o, prompt) ?? registryStatus(registryKey(prompt), prompt.versionId, [], {});
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
      promotePrompt(o.registry, state.project, prompt, state.config, { label: label!, actor: registryActor(this.host.env), at: new Date(), message: args.message, force }),
    );
    await this.view.reload(state.folder.uri.fsPath);
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
      const o = this.view.registryOf(state.folder, state.config);
      if (!o) throw new Error('the registry cannot be read in an untrusted workspace');
      return { key: args.key, o, root: state.folder.uri.fsPath };
    }
    const found = await this.pickPrompt(args.file, what);
    if (!found) return undefined;
    const o = this.view.registryOf(found.state.folder, found.state.config);
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
    const { from, to } = await o.registry.rollback(key, label, { actor: registryActor(this.host.env), at: new Date().toISOString() });
    await this.view.reload(root);
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
      const found = this.view.promptAt(q.get('file') ?? undefined);
      if (!found) return '';
      const current = versionRecord(found.prompt, { author: '', at: '' });
      return versionText({ ...current, number: 0 }, `# ${current.prompt}, this file (content ${current.contentHash}${current.semver ? `, ${current.semver}` : ''})`);
    }
    const o = this.view.open.get(q.get('root') ?? '');
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

