/* A small fake of the `vscode` API: what PromptGate's editor adapter calls, with state a test can
   read (the test tree, each TestRun's states and output, diagnostics, CodeLens, messages shown).
   Modelled on microsoft/playwright-vscode's tests/mock/vscode.ts. */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  event = (l: Listener<T>) => {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
    readonly query = '',
  ) {}
  static file(p: string): Uri {
    return new Uri('file', path.resolve(p));
  }
  static parse(s: string): Uri {
    const u = new URL(s);
    return new Uri(u.protocol.slice(0, -1), decodeURIComponent(u.pathname), u.search.slice(1));
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, path.join(base.path, ...parts));
  }
  static from(c: { scheme: string; path: string; query?: string }): Uri {
    return new Uri(c.scheme, c.path, c.query);
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return this.scheme === 'file' ? pathToFileURL(this.path).href : `${this.scheme}:${this.path}${this.query ? `?${this.query}` : ''}`;
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(sl: number, sc: number, el: number, ec: number) {
    this.start = new Position(sl, sc);
    this.end = new Position(el, ec);
  }
}

export class Location {
  constructor(
    readonly uri: Uri,
    readonly range: Range,
  ) {}
}

export class TestMessage {
  location?: Location;
  expectedOutput?: string;
  actualOutput?: string;
  constructor(readonly message: string) {}
  static diff(message: string, expected: string, actual: string): TestMessage {
    return Object.assign(new TestMessage(message), { expectedOutput: expected, actualOutput: actual });
  }
}

export class Diagnostic {
  source?: string;
  code?: string | number;
  constructor(
    readonly range: Range,
    readonly message: string,
    readonly severity: number,
  ) {}
}

export class CodeLens {
  constructor(
    readonly range: Range,
    readonly command?: { title: string; command: string; arguments?: unknown[]; tooltip?: string },
  ) {}
}

export class RelativePattern {
  constructor(
    readonly base: unknown,
    readonly pattern: string,
  ) {}
}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  readonly token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
  cancel(): void {
    if (this.token.isCancellationRequested) return;
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {}
}

export class TestRunRequest {
  constructor(
    readonly include?: TestItem[],
    readonly exclude?: TestItem[],
    readonly profile?: unknown,
    readonly continuous?: boolean,
  ) {}
}

export class TestItemCollection {
  private readonly map = new Map<string, TestItem>();
  constructor(private readonly owner?: TestItem) {}
  get size(): number {
    return this.map.size;
  }
  add(item: TestItem): void {
    item.parent = this.owner;
    this.map.set(item.id, item);
  }
  replace(items: readonly TestItem[]): void {
    this.map.clear();
    for (const i of items) this.add(i);
  }
  get(id: string): TestItem | undefined {
    return this.map.get(id);
  }
  delete(id: string): void {
    this.map.delete(id);
  }
  forEach(fn: (item: TestItem) => unknown): void {
    for (const i of [...this.map.values()]) fn(i);
  }
}

export class TestItem {
  parent?: TestItem;
  range?: Range;
  description?: string;
  tags: unknown[] = [];
  readonly children: TestItemCollection = new TestItemCollection(this);
  constructor(
    readonly id: string,
    readonly label: string,
    readonly uri?: Uri,
  ) {}
}

/** One TestRun: each item's last state with its messages, and the output appended. */
export class TestRun {
  readonly states = new Map<string, { state: string; messages: TestMessage[] }>();
  output = '';
  ended = false;
  constructor(readonly request: TestRunRequest) {}
  private set(item: TestItem, state: string, m?: TestMessage | TestMessage[]) {
    this.states.set(item.id, { state, messages: m ? [m].flat() : [] });
  }
  enqueued(i: TestItem) {
    this.set(i, 'enqueued');
  }
  started(i: TestItem) {
    this.set(i, 'started');
  }
  skipped(i: TestItem) {
    this.set(i, 'skipped');
  }
  passed(i: TestItem) {
    this.set(i, 'passed');
  }
  failed(i: TestItem, m: TestMessage | TestMessage[]) {
    this.set(i, 'failed', m);
  }
  errored(i: TestItem, m: TestMessage | TestMessage[]) {
    this.set(i, 'errored', m);
  }
  appendOutput(text: string) {
    this.output += text;
  }
  end() {
    this.ended = true;
  }
  /** `state` of each item by id, for deepEqual. */
  stateOf(): Record<string, string> {
    return Object.fromEntries([...this.states].map(([id, s]) => [id, s.state]));
  }
}

export class TestController {
  readonly items = new TestItemCollection();
  readonly runs: TestRun[] = [];
  readonly profiles: { label: string; handler: (r: TestRunRequest, t: CancellationTokenSource['token']) => unknown }[] = [];
  resolveHandler?: (item?: TestItem) => unknown;
  refreshHandler?: () => unknown;
  constructor(
    readonly id: string,
    readonly label: string,
  ) {}
  createTestItem(id: string, label: string, uri?: Uri): TestItem {
    return new TestItem(id, label, uri);
  }
  createRunProfile(label: string, _kind: number, handler: (r: TestRunRequest, t: CancellationTokenSource['token']) => unknown) {
    const p = { label, handler, dispose() {} };
    this.profiles.push(p);
    return p;
  }
  createTestRun(request: TestRunRequest): TestRun {
    const run = new TestRun(request);
    this.runs.push(run);
    return run;
  }
  dispose(): void {}
}

/** The tree as an outline, one item a line, indented by depth: `label [line]`. */
export function outline(items: TestItemCollection, depth = 0): string {
  const lines: string[] = [];
  items.forEach((i) => {
    lines.push(`${'  '.repeat(depth)}- ${i.label}${i.range ? ` [${i.range.start.line}]` : ''}`);
    if (i.children.size) lines.push(outline(i.children, depth + 1));
  });
  return lines.join('\n');
}

export class DiagnosticCollection {
  readonly entries = new Map<string, Diagnostic[]>();
  set(uri: Uri, list: Diagnostic[]) {
    this.entries.set(uri.fsPath, list);
  }
  delete(uri: Uri) {
    this.entries.delete(uri.fsPath);
  }
  forEach(fn: (uri: Uri, list: Diagnostic[]) => unknown) {
    for (const [f, l] of [...this.entries]) fn(Uri.file(f), l);
  }
  get(uri: Uri) {
    return this.entries.get(uri.fsPath);
  }
  dispose() {}
}

export class TextDocument {
  isDirty = false;
  constructor(
    readonly uri: Uri,
    private text: string,
  ) {}
  getText(): string {
    return this.text;
  }
  edit(text: string): void {
    this.text = text;
    this.isDirty = true;
  }
}

export interface FakeVSCodeOptions {
  root: string;
  settings?: Record<string, unknown>;
  trusted?: boolean;
  /** Answers to modal and other messages, by the start of their text (default: dismissed). */
  answers?: { match: RegExp; choice: string | undefined }[];
}

/** A fresh fake `vscode` module and extension context for one test. */
export function fakeVSCode(options: FakeVSCodeOptions) {
  const settings: Record<string, unknown> = { ...options.settings };
  const messages: { kind: 'info' | 'warning' | 'error'; text: string }[] = [];
  const commands = new Map<string, (...args: unknown[]) => unknown>();
  const controllers: TestController[] = [];
  const diagnostics: DiagnosticCollection[] = [];
  const lensProviders: { provideCodeLenses(doc: TextDocument): CodeLens[]; onDidChangeCodeLenses?: unknown }[] = [];
  const logs: string[] = [];
  const events = { change: new EventEmitter<{ document: TextDocument }>(), open: new EventEmitter<TextDocument>(), save: new EventEmitter<TextDocument>(), config: new EventEmitter<{ affectsConfiguration(s: string): boolean }>(), secrets: new EventEmitter<{ key: string }>() };
  const secrets = new Map<string, string>();
  const disposable = { dispose() {} };
  const fileWatchers: { glob: RegExp; change: EventEmitter<Uri>; disposed: boolean }[] = [];
  const say = (kind: 'info' | 'warning' | 'error') => async (text: string, ...rest: unknown[]) => {
    messages.push({ kind, text });
    const choices = rest.filter((r): r is string => typeof r === 'string');
    const answer = options.answers?.find((a) => a.match.test(text));
    return answer && choices.includes(answer.choice ?? '') ? answer.choice : undefined;
  };
  const channel = () => {
    const line = (level: string) => (s: string) => void logs.push(`${level}: ${s}`);
    return { info: line('info'), warn: line('warn'), error: line('error'), debug: line('debug'), trace: line('trace'), appendLine: line('line'), show() {}, dispose() {} };
  };

  const vscode = {
    Uri,
    Range,
    Position,
    Location,
    TestMessage,
    Diagnostic,
    CodeLens,
    RelativePattern,
    EventEmitter,
    CancellationTokenSource,
    TestRunRequest,
    DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    TestRunProfileKind: { Run: 1, Debug: 2, Coverage: 3 },
    ViewColumn: { Active: -1, Beside: -2, One: 1 },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    QuickPickItemKind: { Separator: -1, Default: 0 },
    tests: {
      createTestController: (id: string, label: string) => {
        const c = new TestController(id, label);
        controllers.push(c);
        return c;
      },
    },
    languages: {
      createDiagnosticCollection: () => {
        const d = new DiagnosticCollection();
        diagnostics.push(d);
        return d;
      },
      registerCodeLensProvider: (_selector: unknown, provider: (typeof lensProviders)[number]) => {
        lensProviders.push(provider);
        return disposable;
      },
    },
    window: {
      createOutputChannel: channel,
      createStatusBarItem: () => ({ text: '', tooltip: '', command: '', show() {}, hide() {}, dispose() {} }),
      showInformationMessage: say('info'),
      showWarningMessage: say('warning'),
      showErrorMessage: say('error'),
      showQuickPick: async () => undefined,
      showInputBox: async () => undefined,
      showTextDocument: async () => undefined,
      activeTextEditor: undefined,
      registerWebviewPanelSerializer: () => disposable,
      onDidChangeWindowState: () => disposable,
      withProgress: async (_o: unknown, task: (p: { report(): void }) => unknown) => task({ report() {} }),
      createWebviewPanel: () => {
        throw new Error('the fake has no webviews: the results panel is tested in code-server');
      },
    },
    workspace: {
      isTrusted: options.trusted ?? true,
      workspaceFolders: [{ uri: Uri.file(options.root), name: path.basename(options.root), index: 0 }],
      textDocuments: [] as TextDocument[],
      getConfiguration: () => ({ get: (key: string) => settings[key] }),
      onDidChangeTextDocument: events.change.event,
      onDidOpenTextDocument: events.open.event,
      onDidSaveTextDocument: events.save.event,
      onDidChangeConfiguration: events.config.event,
      registerTextDocumentContentProvider: () => disposable,
      // A watcher sees the files its glob matches (as VS Code's: `**/`, `*`, `{a,b}`), until disposed.
      createFileSystemWatcher: (glob: string) => {
        const watcher = { glob: globRegExp(glob), change: new EventEmitter<Uri>(), disposed: false };
        fileWatchers.push(watcher);
        return { onDidChange: watcher.change.event, onDidCreate: watcher.change.event, onDidDelete: () => disposable, dispose: () => void (watcher.disposed = true) };
      },
      fs: { writeFile: async () => undefined },
    },
    commands: {
      registerCommand: (id: string, fn: (...args: unknown[]) => unknown) => {
        commands.set(id, fn);
        return { dispose: () => commands.delete(id) };
      },
      executeCommand: async (id: string, ...args: unknown[]) => commands.get(id)?.(...args),
    },
  };

  const context = {
    subscriptions: [] as { dispose(): unknown }[],
    extensionUri: Uri.file(path.resolve(__dirname, '../..')),
    secrets: { get: async (k: string) => secrets.get(k), store: async (k: string, v: string) => void secrets.set(k, v), delete: async (k: string) => void secrets.delete(k), onDidChange: events.secrets.event },
  };

  return {
    vscode,
    context,
    settings,
    messages,
    logs,
    /** Runs a registered command as the palette would. */
    command: (id: string, ...args: unknown[]) => vscode.commands.executeCommand(id, ...args),
    controller: () => controllers[0],
    /** The test item with this id, anywhere in the tree. */
    item: (id: string): TestItem | undefined => {
      const find = (items: TestItemCollection): TestItem | undefined => {
        let found: TestItem | undefined;
        items.forEach((i) => (found ??= i.id === id ? i : find(i.children)));
        return found;
      };
      return find(controllers[0].items);
    },
    diagnostics: () => diagnostics[0],
    /** The CodeLens titles of a file, each with its zero-based line. */
    lenses: (file: string) => lensProviders.flatMap((p) => p.provideCodeLenses(new TextDocument(Uri.file(file), ''))).map((l) => `${l.range.start.line}: ${l.command?.title}`),
    /** A file changed on disk (another tool, git): the watchers whose glob matches it hear of it. */
    diskChange: (file: string) => {
      const rel = path.relative(options.root, file).split(path.sep).join('/');
      for (const w of fileWatchers) if (!w.disposed && w.glob.test(rel)) w.change.fire(Uri.file(file));
    },
    /** Saves a document with this text (written to disk first by the caller), as Ctrl+S does. */
    save: (file: string, text: string) => events.save.fire(new TextDocument(Uri.file(file), text)),
    /** Opens a document with unsaved text, as typing in the editor does. */
    editUnsaved: (file: string, text: string) => {
      const doc = new TextDocument(Uri.file(file), '');
      doc.edit(text);
      vscode.workspace.textDocuments.push(doc);
      events.change.fire({ document: doc });
      return doc;
    },
    dispose: () => {
      for (const d of context.subscriptions) d.dispose();
    },
  };
}

/** A VS Code glob pattern (`**` and `*`, `{a,b}` alternatives) as a regular expression over a relative path. */
function globRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (glob.startsWith('**/', i)) {
      out += '(?:.*/)?';
      i += 2;
    } else if (ch === '*') out += '[^/]*';
    else if (ch === '{') out += '(?:';
    else if (ch === '}') out += ')';
    else if (ch === ',') out += '|';
    else out += ch.replace(/[.+?^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}
