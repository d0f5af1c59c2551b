import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as vscode from 'vscode';
import { GitRegistryStore, Registry } from '../../src/core';
import { insertAndSave, root, until } from './helpers';
import { filesUnder } from '../support/tmp';

/* Runs inside a real VS Code extension host (code-server), against the workspace the runner made
   from test/fixtures/vscode-ws; provider calls go to the runner's local OpenAI-compatible server. */

interface Api {
  refresh(): Promise<void>;
  runCases(ids: string[], token?: vscode.CancellationToken, options?: { approve?: boolean; fresh?: boolean }): Promise<{ outcomes: { spec: { id: string }; verdict: { kind: string; passing: boolean }; change?: { before: string; after: string } }[] } | undefined>;
  controller: vscode.TestController;
  outcome(id: string): { verdict: { kind: string }; change?: { before: string; after: string } } | undefined;
  lastRun(): { count: number; ids: string[] };
  resultsVisible(): boolean;
  resultsRendered(): number;
  settingsProblems(): string[];
  cases(): { id: string; name: string; file: string; line: number }[];
  profiles(): vscode.TestRunProfile[];
  watching(): number;
  attacks(): { category: string; successes: number; attempts: number }[];
  registryStatus(file: string): Promise<{ published?: number; labels: { label: string; version: number; current: boolean }[] } | undefined>;
}


let api: Api;

suite('PromptGate in VS Code', () => {
  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension('promptgate.promptgate');
    assert.ok(ext, 'the extension is installed');
    api = (await ext.activate()) as Api;
    await api.refresh();
  });

  test('activates on a workspace with prompt files and builds folder → prompt → suite → case', () => {
    const folders: vscode.TestItem[] = [];
    api.controller.items.forEach((i) => folders.push(i));
    assert.equal(folders.length, 1);
    const prompts: string[] = [];
    folders[0].children.forEach((p) => prompts.push(p.label));
    assert.deepEqual(prompts.sort(), ['farewell.prompt.yml', 'greet.prompt.yml', 'xss.prompt.yml']);
    const greet = folders[0].children.get('greet.prompt.yml')!;
    const suite = greet.children.get('greet.prompt.yml::golden')!;
    const ann = suite.children.get('greet.prompt.yml::golden::ann')!;
    assert.equal(ann.label, 'ann');
    assert.equal(ann.range!.start.line, 9);
    assert.equal(ann.uri!.fsPath, path.join(root(), 'greet.prompt.yml'));
  });

  test('a run that passes, then an edit that regresses with a baseline → current diff', async () => {
    const first = await api.runCases(['greet.prompt.yml::golden::ann', 'greet.prompt.yml::golden::bob']);
    assert.deepEqual(first!.outcomes.map((o) => [o.spec.id.split('::')[2], o.verdict.kind, o.verdict.passing]), [['ann', 'new', true], ['bob', 'new', true]], JSON.stringify(first!.outcomes.map((o) => (o as unknown as { results: unknown }).results)));
    // One sample per case is too thin for a baseline: "Run and approve as baseline" samples them to strength.
    await api.runCases(['greet.prompt.yml::golden::ann', 'greet.prompt.yml::golden::bob'], undefined, { approve: true });
    await fs.access(path.join(root(), '.promptgate/baselines/greet.prompt.yml/golden.json'));

    const file = path.join(root(), 'greet.prompt.yml');
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('Say hello', 'Say hi'));
    await api.refresh();
    const second = await api.runCases(['greet.prompt.yml::golden::ann']);
    const ann = second!.outcomes[0];
    assert.equal(ann.verdict.kind, 'regressed');
    assert.equal(ann.change!.before, 'echo: Say hello to Ann, politely');
    assert.equal(ann.change!.after, 'echo: Say hi to Ann, politely');
  });

  test('CodeLens shows run, the last verdict, Diff and Approve above a case', async () => {
    const uri = vscode.Uri.file(path.join(root(), 'greet.prompt.yml'));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const lenses = await until('lenses', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
      return l && l.some((x) => x.command?.title.startsWith('⚠ regressed')) ? l : undefined;
    });
    const titles = lenses.map((l) => l.command?.title);
    assert.ok(titles.includes('▶ Run 2 cases'), JSON.stringify(titles));
    assert.ok(titles.includes('⚠ 1 regressed'), JSON.stringify(titles));
    assert.ok(titles.includes('⚠ regressed 100% → 0%'), JSON.stringify(titles));
    assert.ok(titles.includes('Diff'));
    assert.ok(titles.includes('Approve'));
  });

  test('diagnostics: a broken file is reported at its location while typing', async () => {
    const uri = vscode.Uri.file(path.join(root(), 'broken.prompt.yml'));
    await fs.writeFile(uri.fsPath, 'model: gpt-4o\nmessages:\n  - role: user\n    content: "Hi {{ who }}"\nsuites:\n  s:\n    cases:\n      - name: a\n        assert:\n          - type: contians\n            value: x\n');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const diags = await until('diagnostics', () => {
      const d = vscode.languages.getDiagnostics(uri);
      return d.length >= 2 ? d : undefined;
    });
    const messages = diags.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.message}`).sort();
    assert.ok(messages.some((m) => m.startsWith("10:19 unknown assertion type 'contians' (did you mean 'contains'?)")), messages.join('\n'));
    assert.ok(messages.some((m) => /variable 'who' is not defined/.test(m)), messages.join('\n'));
    // Fixing the text clears the errors without saving.
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, new vscode.Range(9, 18, 9, 26), "contains");
    edit.replace(uri, new vscode.Range(7, 15, 7, 15), '\n        vars: { who: Al }');
    await vscode.workspace.applyEdit(edit);
    await until('cleared diagnostics', () => (vscode.languages.getDiagnostics(uri).length === 0 ? true : undefined));
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await fs.rm(uri.fsPath);
  });

  test('saving a prompt re-runs only the cases it affects', async () => {
    const before = api.lastRun().count;
    const uri = vscode.Uri.file(path.join(root(), 'farewell.prompt.yml'));
    await insertAndSave(uri, '# edited\n');
    const run = await until('a run on save', () => (api.lastRun().count > before ? api.lastRun() : undefined), 30_000);
    assert.deepEqual(run.ids, ['farewell.prompt.yml::golden::carl']);
    assert.equal(api.outcome('farewell.prompt.yml::golden::carl')!.verdict.kind, 'new');
    // The lenses follow the edit: the case moved one line down and shows its verdict.
    const lenses = await until('fresh lenses', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
      return l?.some((x) => x.command?.title === '✓ 1/1') ? l : undefined;
    });
    const lines = lenses.filter((x) => x.command?.title === '✓ 1/1').map((x) => x.range.start.line);
    assert.deepEqual(lines.sort(), [1, 9], 'the prompt summary above "name:" and the case verdict above "- name: carl", both one line lower');
  });

  test('saving a case edit re-runs that case only; a save that changes nothing runs nothing', async () => {
    const uri = vscode.Uri.file(path.join(root(), 'greet.prompt.yml'));
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const line = doc.getText().split('\n').findIndex((l) => l.includes('value: bob'));
    let before = api.lastRun().count;
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, new vscode.Range(line, 0, line, doc.lineAt(line).text.length), '            value: BOB');
    await vscode.workspace.applyEdit(edit);
    await doc.save();
    const run = await until('a run on save', () => (api.lastRun().count > before ? api.lastRun() : undefined), 30_000);
    assert.deepEqual(run.ids, ['greet.prompt.yml::golden::bob']);
    before = api.lastRun().count;
    const comment = new vscode.WorkspaceEdit();
    comment.insert(uri, new vscode.Position(0, 0), '# only a comment\n');
    await vscode.workspace.applyEdit(comment);
    await doc.save();
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(api.lastRun().count, before, 'nothing a case depends on changed');
    // The regression warning on ann follows the case to its new line.
    const annLine = doc.getText().split('\n').findIndex((l) => l.includes('- name: ann'));
    await until('the warning on the moved case', () => (vscode.languages.getDiagnostics(uri).some((d) => d.message.startsWith('PromptGate regressed') && d.range.start.line === annLine) ? true : undefined));
  });

  test('the results panel opens with the latest run, model output included as data', async () => {
    const r = await api.runCases(['xss.prompt.yml::golden::markup-is-text']);
    assert.equal(r!.outcomes[0].verdict.kind, 'new');
    assert.equal(r!.outcomes[0].verdict.passing, false);
    await vscode.commands.executeCommand('promptgate.showResults');
    await until('the panel', () => (api.resultsVisible() ? true : undefined));
    await until('the panel tab', () => (vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.label === 'PromptGate Results')) ? true : undefined));
    await until('rows rendered in the panel', () => (api.resultsRendered() > 0 ? true : undefined));
    // The runner checks, in the page itself, that the <script> and <img onerror> are shown as text.
  });

  test('continuous run: with run on save off, a change on disk re-runs only the watched cases, until stopped', async () => {
    const config = vscode.workspace.getConfiguration('promptgate');
    await config.update('runOnSave', false, vscode.ConfigurationTarget.Workspace);
    const cts = new vscode.CancellationTokenSource();
    try {
      const profile = api.profiles().find((p) => p.label === 'Run')!;
      assert.equal(profile.supportsContinuousRun, true);
      let suite: vscode.TestItem | undefined;
      api.controller.items.forEach((f) => (suite ??= f.children.get('farewell.prompt.yml')?.children.get('farewell.prompt.yml::golden')));
      assert.ok(suite, 'the farewell suite item');
      await profile.runHandler(new vscode.TestRunRequest([suite], undefined, profile, true), cts.token);
      assert.equal(api.watching(), 1);

      const farewell = path.join(root(), 'farewell.prompt.yml');
      const greet = path.join(root(), 'greet.prompt.yml');
      let before = api.lastRun().count;
      await fs.writeFile(farewell, (await fs.readFile(farewell, 'utf8')).replace('Say goodbye', 'Say goodbye now'));
      const run = await until('a continuous run', () => (api.lastRun().count > before ? api.lastRun() : undefined), 30_000);
      assert.deepEqual(run.ids, ['farewell.prompt.yml::golden::carl']);

      // A file outside the watched suite changes: nothing runs (run on save is off).
      before = api.lastRun().count;
      await fs.writeFile(greet, (await fs.readFile(greet, 'utf8')).replace('politely', 'kindly'));
      await new Promise((r) => setTimeout(r, 2_000));
      assert.equal(api.lastRun().count, before, 'an unwatched file ran nothing');

      cts.cancel();
      assert.equal(api.watching(), 0);
      await fs.writeFile(farewell, (await fs.readFile(farewell, 'utf8')).replace('Say goodbye now', 'Say goodbye'));
      await new Promise((r) => setTimeout(r, 2_000));
      assert.equal(api.lastRun().count, before, 'a stopped continuous run runs nothing');
    } finally {
      cts.cancel();
      await config.update('runOnSave', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  test('cancelling a run aborts the calls in flight and marks the cases skipped', async () => {
    const file = path.join(root(), 'slow.prompt.yml');
    await fs.writeFile(file, 'model: gpt-4o-mini\nmessages:\n  - role: user\n    content: "{{ q }} [hang]"\nsuites:\n  golden:\n    cases:\n      - { name: one, vars: { q: a }, assert: [{ type: contains, value: a }] }\n      - { name: two, vars: { q: b }, assert: [{ type: contains, value: b }] }\n');
    try {
      await api.refresh();
      const cts = new vscode.CancellationTokenSource();
      const t0 = Date.now();
      setTimeout(() => cts.cancel(), 500);
      const r = await api.runCases(['slow.prompt.yml::golden::one', 'slow.prompt.yml::golden::two'], cts.token);
      assert.ok(Date.now() - t0 < 5_000, `the run ended ${Date.now() - t0} ms after it started, not when the calls would time out`);
      assert.deepEqual(r!.outcomes.map((o) => o.verdict.kind), ['skipped', 'skipped']);
    } finally {
      await fs.rm(file);
      await api.refresh();
    }
  });

  test('an adversarial suite: one set of lenses per pack, Run Adversarial Suites runs its attacks', async () => {
    const file = path.join(root(), 'guard.prompt.yml');
    await fs.writeFile(file, 'model: gpt-4o-mini\nmessages:\n  - role: system\n    content: You are a bank assistant.\n  - role: user\n    content: "{{ message }}"\nsuites:\n  attacks:\n    kind: adversarial\n    packs: [injection]\n    limit: 3\n');
    try {
      await api.refresh();
      const uri = vscode.Uri.file(file);
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      const titles = async () => ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? []).filter((l) => l.range.start.line === 9).map((l) => l.command?.title);
      await until('the pack lens', async () => ((await titles()).includes('▶ Run 3 attacks') ? true : undefined));
      const r = await vscode.commands.executeCommand<{ outcomes: { spec: { id: string; attack?: { pack: string } }; verdict: { kind: string; passing: boolean } }[] }>('promptgate.runAdversarial');
      const attacks = r.outcomes.filter((o) => o.spec.id.startsWith('guard.prompt.yml::'));
      assert.equal(attacks.length, 3);
      assert.ok(attacks.every((o) => o.spec.attack?.pack === 'injection'));
      // The test model echoes its input, so an injected "say X" comes back: every attack succeeds.
      assert.ok(attacks.every((o) => !o.verdict.passing), JSON.stringify(attacks.map((o) => o.verdict)));
      await until('the verdict lens', async () => ((await titles()).includes('✗ 0/3') ? true : undefined));
      // The results panel gets the attack success per category.
      const injection = api.attacks().find((a) => a.category === 'injection');
      assert.deepEqual(injection && [injection.successes, injection.attempts], [3, 3]);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      await fs.rm(file);
      await api.refresh();
    }
  });

  test('a .prompty file: its sample is a case in the Test Explorer that runs; its errors are located', async () => {
    const file = path.join(root(), 'ask.prompty');
    const text = '---\nname: Ask\nmodel:\n  api: chat\n  configuration:\n    type: openai\n    name: gpt-4o-mini\nsample:\n  question: Where is my order?\n---\nsystem:\nYou are a shop assistant.\n\nuser:\n{{ question }}\n';
    await fs.writeFile(file, text);
    try {
      await api.refresh();
      let item: vscode.TestItem | undefined;
      api.controller.items.forEach((f) => (item ??= f.children.get('ask.prompty')?.children.get('ask.prompty::sample')?.children.get('ask.prompty::sample::sample')));
      assert.ok(item, 'ask.prompty › sample › sample in the Test Explorer');
      assert.equal(item.range!.start.line, 7);
      const r = await api.runCases(['ask.prompty::sample::sample']);
      assert.deepEqual(r!.outcomes.map((o) => [o.verdict.kind, o.verdict.passing]), [['new', true]]);
      const uri = vscode.Uri.file(file);
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc);
      const edit = new vscode.WorkspaceEdit();
      edit.replace(uri, new vscode.Range(14, 0, 14, 14), '{{ questoin }}');
      await vscode.workspace.applyEdit(edit);
      const diags = await until('the template error', () => {
        const d = vscode.languages.getDiagnostics(uri);
        return d.length ? d : undefined;
      });
      // No inputs are declared: Prompty renders the variable empty, and the case that lacks it warns, pointing at its use.
      assert.ok(diags.some((d) => d.message === "case 'sample': variable 'questoin' has no value (used at ask.prompty:15:4); it renders empty, as in Prompty" && d.range.start.line === 8 && d.severity === vscode.DiagnosticSeverity.Warning), diags.map((d) => `${d.range.start.line}:${d.range.start.character} ${d.message}`).join('\n'));
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    } finally {
      await fs.rm(file);
      await api.refresh();
    }
  });

  test('a promptfoo configuration: its tests are in the Test Explorer and run, unchanged', async () => {
    const file = path.join(root(), 'promptfooconfig.yaml');
    await fs.writeFile(file, 'prompts:\n  - "Reply to {{ name }}"\nproviders:\n  - openai:chat:gpt-4o-mini\ntests:\n  - description: greets\n    vars: { name: Ada }\n    assert:\n      - type: contains\n        value: Ada\n  - description: fails\n    vars: { name: Bo }\n    assert:\n      - type: contains\n        value: Zed\n');
    try {
      await api.refresh();
      const ids = api.cases().filter((c) => c.file === file).map((c) => c.id);
      assert.deepEqual(ids, ['promptfooconfig.yaml::prompt::greets', 'promptfooconfig.yaml::prompt::fails']);
      let item: vscode.TestItem | undefined;
      api.controller.items.forEach((f) => (item ??= f.children.get('promptfooconfig.yaml')?.children.get('promptfooconfig.yaml::prompt')?.children.get(ids[0])));
      assert.ok(item, 'promptfooconfig.yaml › prompt › greets in the Test Explorer');
      assert.equal(item.range!.start.line, 5);
      const r = await api.runCases(ids);
      assert.deepEqual(r!.outcomes.map((o) => [o.spec.id.split('::')[2], o.verdict.passing]), [['greets', true], ['fails', false]]);
    } finally {
      await fs.rm(file);
      await api.refresh();
    }
  });

  test('settings are checked by the core schema: an invalid one falls back to its default and is named', async () => {
    const config = vscode.workspace.getConfiguration('promptgate');
    await config.update('concurrency', 0, vscode.ConfigurationTarget.Workspace);
    try {
      const r = await api.runCases(['farewell.prompt.yml::golden::carl']);
      assert.equal(r!.outcomes[0].verdict.passing, true, 'the run still works with the default');
      assert.ok(api.settingsProblems().some((p) => p.startsWith('promptgate.concurrency:')), JSON.stringify(api.settingsProblems()));
    } finally {
      await config.update('concurrency', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  test('provider faults (500s, resets mid-stream) error their cases with the reason; the editor keeps working', async () => {
    const file = path.join(root(), 'faulty.prompt.yml');
    await fs.writeFile(file, `model: gpt-4o-mini\nprovider: { id: openai, stream: true, maxRetries: 1 }\nmessages:\n  - role: user\n    content: "{{ ask }}"\nsuites:\n  golden:\n    cases:\n      - { name: server error, vars: { ask: "[500] please" }, assert: [{ type: contains, value: x }] }\n      - { name: reset, vars: { ask: "[reset] a long enough answer to stream in chunks" }, assert: [{ type: contains, value: x }] }\n`);
    try {
      await api.refresh();
      const ids = ['faulty.prompt.yml::golden::server-error', 'faulty.prompt.yml::golden::reset'];
      const r = await api.runCases(ids);
      assert.deepEqual(r!.outcomes.map((o) => o.verdict.kind), ['errored', 'errored']);
      const reasons = ids.map((id) => (api.outcome(id) as unknown as { results: { error?: { kind: string; message: string } }[] }).results[0].error);
      assert.match(`${reasons[0]?.kind}: ${reasons[0]?.message}`, /^server: HTTP 500: .*after 2 attempts/);
      assert.match(`${reasons[1]?.kind}: ${reasons[1]?.message}`, /^network: /);
      // Not blocked: the next run answers at once.
      const next = await api.runCases(['greet.prompt.yml::golden::bob']);
      assert.equal(next!.outcomes.length, 1);
    } finally {
      await fs.rm(file, { force: true });
      await api.refresh();
    }
  });

  test('registry: promotion from the command is refused without evidence, then moves production; the lens shows it', async () => {
    const file = path.join(root(), 'farewell.prompt.yml');
    const uri = vscode.Uri.file(file);
    const refused = await vscode.commands.executeCommand<{ refused?: string[] }>('promptgate.promote', { file, label: 'production', yes: true });
    assert.ok(refused?.refused?.some((p) => /suite 'golden': (1 samples per case, the policy needs 2|1 of 1 cases have not run)/.test(p)), JSON.stringify(refused));
    await assert.rejects(fs.access(path.join(root(), '.promptgate/registry/prompts/farewell/labels.json')), 'nothing was written');

    // The evidence: the golden suite with 5 samples (the "Run with 5 samples" profile) on this content.
    const item = api.controller.items.get(vscode.Uri.file(root()).toString())!.children.get('farewell.prompt.yml')!;
    await api.profiles()[1].runHandler(new vscode.TestRunRequest([item]), new vscode.CancellationTokenSource().token);
    const promoted = await vscode.commands.executeCommand<{ version?: number; from?: number | null }>('promptgate.promote', { file, label: 'production', yes: true });
    assert.deepEqual([promoted?.version, promoted?.from], [1, null], JSON.stringify(promoted));
    assert.deepEqual(JSON.parse(await fs.readFile(path.join(root(), '.promptgate/registry/prompts/farewell/labels.json'), 'utf8')), { production: 1 });
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    await until('the production lens', async () => (await lensTitles(uri)).includes('$(tag) production v1'));
    assert.ok((await lensTitles(uri)).includes('Promote…'));
  });

  test('registry: drift CodeLens on an edit, refreshed when another process moves the label; rollback and history', async () => {
    const file = path.join(root(), 'farewell.prompt.yml');
    const uri = vscode.Uri.file(file);
    await insertAndSave(uri, '# an edit after the promotion\n');
    const doc = await vscode.workspace.openTextDocument(uri);
    const edit = new vscode.WorkspaceEdit();
    const at = doc.getText().indexOf('Say goodbye');
    edit.replace(uri, new vscode.Range(doc.positionAt(at), doc.positionAt(at + 'Say goodbye'.length)), 'Say goodbye warmly');
    await vscode.workspace.applyEdit(edit);
    await doc.save();
    await until('the drift lens', async () => (await lensTitles(uri)).includes('$(warning) production is v1; this file is an unpublished edit'));

    // Another process (the CLI, as a teammate or CI would) forces production to this content: the
    // folder registry is watched, so the lens follows without any command in this window.
    const cli = path.join(vscode.extensions.getExtension('promptgate.promptgate')!.extensionPath, 'dist', 'cli.js');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [cli, 'promote', 'farewell.prompt.yml', '--label', 'production', '--force', '--reason', 'hotfix from the CLI'], { cwd: root(), env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', PROMPTGATE_ACTOR: 'ci' } }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(String(stdout)),
      ),
    );
    assert.match(out, /^production: farewell v1 → v2 \(forced: hotfix from the CLI\)/);
    await until('the lens after the CLI moved production', async () => (await lensTitles(uri)).includes('$(tag) production v2'), 10_000);

    const back = await vscode.commands.executeCommand<{ from?: number; to?: number }>('promptgate.rollbackLabel', { file, label: 'production', yes: true });
    assert.deepEqual([back?.from, back?.to], [2, 1]);
    await until('the drift lens after the rollback', async () => (await lensTitles(uri)).includes('$(warning) production is v1; this file is v2'));
    const status = await api.registryStatus(file);
    assert.deepEqual([status?.published, status?.labels.map((l) => [l.label, l.version, l.current])], [2, [['production', 1, false]]]);

    // History: the diff editor between the version production points at and this file.
    const opened = await vscode.commands.executeCommand<{ left: string; right: string }>('promptgate.showHistory', { file, compare: ['production', 'file'] });
    const tab = await until('the diff editor', () => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputTextDiff ? input : undefined;
    });
    assert.equal(tab.original.toString(), opened.left);
    const [left, right] = [await vscode.workspace.openTextDocument(tab.original), await vscode.workspace.openTextDocument(tab.modified)];
    assert.match(left.getText(), /^# farewell v1 \(content \w+\)\n[\s\S]*\nSay goodbye to \{\{ who \}\}\n/);
    assert.match(right.getText(), /^# farewell, this file \(content \w+\)\n[\s\S]*\nSay goodbye warmly to \{\{ who \}\}\n/);
    const audit = (await fs.readFile(path.join(root(), '.promptgate/registry/prompts/farewell/audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { action: string; actor: string; reason?: string });
    assert.deepEqual(audit.map((e) => e.action), ['publish', 'label', 'publish', 'forced-label', 'rollback']);
    assert.equal(audit[3].reason, 'hotfix from the CLI');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('registry: a broken registry file is an error message, not a crash; the lenses still come', async () => {
    const file = path.join(root(), 'farewell.prompt.yml');
    const labels = path.join(root(), '.promptgate/registry/prompts/farewell/labels.json');
    const good = await fs.readFile(labels, 'utf8');
    await fs.writeFile(labels, '{ not json');
    try {
      const r = await vscode.commands.executeCommand<{ error?: string }>('promptgate.rollbackLabel', { file, label: 'production', yes: true });
      assert.match(r?.error ?? '', /prompts\/farewell\/labels\.json: not valid JSON/);
      const uri = vscode.Uri.file(file);
      await until('the registry error lens', async () => (await lensTitles(uri)).includes('$(error) registry unavailable'));
      assert.ok((await lensTitles(uri)).includes('▶ Run 1 case'), 'the other lenses are unaffected');
    } finally {
      await fs.writeFile(labels, good);
    }
    await until('the lens after the repair', async () => (await lensTitles(vscode.Uri.file(file))).includes('$(warning) production is v1; this file is v2'));
  });

  test('registry on a git remote: promote from the command, and a teammate\'s push reaches the lens', async () => {
    const file = path.join(root(), 'farewell.prompt.yml');
    const uri = vscode.Uri.file(file);
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-git-remote-'));
    const remote = path.join(tmp, 'prompts.git');
    await run('git', ['init', '-q', '--bare', '-b', 'main', remote]);
    const config = vscode.workspace.getConfiguration('promptgate');
    await config.update('registryRefreshSeconds', 1, vscode.ConfigurationTarget.Workspace);
    await config.update('registry', `git+file://${remote}`, vscode.ConfigurationTarget.Workspace);
    try {
      // staging has no policy of its own: the save in the last test ran the suite on this content.
      const promoted = await vscode.commands.executeCommand<{ version?: number; from?: number | null; refused?: string[] }>('promptgate.promote', { file, label: 'staging', yes: true });
      assert.deepEqual([promoted?.version, promoted?.from], [1, null], JSON.stringify(promoted));
      assert.match(await run('git', ['--git-dir', remote, 'log', '--format=%s', 'main']), /^promptgate: label farewell staging\npromptgate: publish farewell\n$/);
      await until('the staging lens', async () => (await lensTitles(uri)).includes('$(tag) staging v1'));
      // Bob, in his own clone, publishes other content and moves staging to it.
      const bob = new Registry(new GitRegistryStore(remote, path.join(tmp, 'bob-cache'), { name: 'bob', email: 'bob@example.com' }));
      const v1 = (await bob.version('farewell', 1))!;
      const { version } = await bob.publish({ ...v1, contentHash: 'bobs-edit', createdAt: new Date().toISOString(), author: 'bob' });
      await bob.setLabel('farewell', 'staging', version.number, { actor: 'bob', at: new Date().toISOString() });
      await until('the lens after the fetch', async () => (await lensTitles(uri)).includes('$(warning) staging is v2; this file is v1'));
    } finally {
      await config.update('registry', undefined, vscode.ConfigurationTarget.Workspace);
      await config.update('registryRefreshSeconds', undefined, vscode.ConfigurationTarget.Workspace);
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });

  test('the API key goes to SecretStorage, never to settings or any file a run, approval or promotion writes', async () => {
    const secret = 'sk-integration-secret-5e8d1c0b7a';
    await vscode.commands.executeCommand('promptgate.setApiKey', secret);
    const all = JSON.stringify(vscode.workspace.getConfiguration('promptgate'));
    assert.ok(!all.includes(secret));
    // A live call with the stored key (new content, so not from the cache), then approve and promote.
    const file = path.join(root(), 'farewell.prompt.yml');
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('Say goodbye warmly', 'Say goodbye kindly'));
    await api.refresh();
    const r = await api.runCases(['farewell.prompt.yml::golden::carl']);
    assert.equal(r!.outcomes[0].verdict.passing, true);
    await api.runCases(['farewell.prompt.yml::golden::carl'], undefined, { approve: true });
    const promoted = await vscode.commands.executeCommand<{ version?: number }>('promptgate.promote', { file, label: 'staging', yes: true });
    assert.ok(promoted?.version, JSON.stringify(promoted));
    const written = await filesUnder(root());
    assert.ok(written.some((f) => f.includes(`${path.sep}runs${path.sep}`)) && written.some((f) => f.includes(`${path.sep}registry${path.sep}`)));
    for (const f of written) assert.ok(!(await fs.readFile(f, 'latin1')).includes(secret), `${path.relative(root(), f)} holds the key`);
  });
});


function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(String(stdout)))));
}

async function lensTitles(uri: vscode.Uri): Promise<string[]> {
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
  return (lenses ?? []).map((l) => l.command?.title ?? '');
}
