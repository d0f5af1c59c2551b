import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { insertAndSave, root, until } from './helpers';

/* Runs inside a real VS Code whose workspace is NOT trusted (Restricted Mode). PromptGate declares
   limited support: it shows the tests, lenses and file errors, but calls no model and runs no
   javascript assertion. The runner checks afterwards that the model server got no request. */

interface Api {
  refresh(): Promise<void>;
  runCases(ids: string[]): Promise<unknown>;
  controller: vscode.TestController;
  outcome(id: string): unknown;
  lastRun(): { count: number; ids: string[] };
}


let api: Api;

suite('PromptGate in an untrusted workspace', () => {
  suiteSetup(async () => {
    assert.equal(vscode.workspace.isTrusted, false, 'the runner opened the folder in Restricted Mode');
    const ext = vscode.extensions.getExtension('promptgate.promptgate');
    assert.ok(ext, 'the extension is enabled in Restricted Mode (limited support)');
    api = (await ext.activate()) as Api;
    await api.refresh();
  });

  test('the test tree and the CodeLens are there', async () => {
    const prompts: string[] = [];
    api.controller.items.forEach((f) => f.children.forEach((p) => prompts.push(p.label)));
    assert.deepEqual(prompts.sort(), ['farewell.prompt.yml', 'greet.prompt.yml', 'xss.prompt.yml']);
    const uri = vscode.Uri.file(path.join(root(), 'greet.prompt.yml'));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const lenses = await until('lenses', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
      return l?.length ? l : undefined;
    });
    assert.ok(lenses.some((l) => l.command?.title === '▶ Run 2 cases'));
  });

  test('file errors are still reported where they are', async () => {
    const uri = vscode.Uri.file(path.join(root(), 'broken.prompt.yml'));
    await fs.writeFile(uri.fsPath, 'model: gpt-4o\nmessages:\n  - role: user\n    content: "Hi"\nsuites:\n  s:\n    cases:\n      - name: a\n        assert:\n          - type: contians\n            value: x\n');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const diags = await until('diagnostics', () => {
      const d = vscode.languages.getDiagnostics(uri);
      return d.length ? d : undefined;
    });
    assert.ok(diags.some((d) => d.message.startsWith("unknown assertion type 'contians'") && d.range.start.line === 9 && d.range.start.character === 18), diags.map((d) => d.message).join('\n'));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await fs.rm(uri.fsPath);
  });

  test('a run calls no model: every case is skipped with the reason', async () => {
    const result = await api.runCases(['greet.prompt.yml::golden::ann', 'greet.prompt.yml::golden::bob']);
    assert.equal(result, undefined, 'nothing ran');
    assert.equal(api.outcome('greet.prompt.yml::golden::ann'), undefined);
    assert.equal(api.lastRun().count, 0);
    // Saving a prompt does not run either.
    const uri = vscode.Uri.file(path.join(root(), 'farewell.prompt.yml'));
    await insertAndSave(uri, '# edited\n');
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(api.lastRun().count, 0);
    assert.equal(api.outcome('farewell.prompt.yml::golden::carl'), undefined);
  });

  test('registry: no Promote… lens, and promotion and rollback write nothing', async () => {
    const file = path.join(root(), 'greet.prompt.yml');
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', vscode.Uri.file(file));
    assert.ok(lenses.length && !lenses.some((l) => l.command?.title === 'Promote…'), JSON.stringify(lenses.map((l) => l.command?.title)));
    assert.equal(await vscode.commands.executeCommand('promptgate.promote', { file, label: 'production', yes: true }), undefined);
    assert.equal(await vscode.commands.executeCommand('promptgate.rollbackLabel', { file, label: 'production', yes: true }), undefined);
    await assert.rejects(fs.access(path.join(root(), '.promptgate/registry')), 'no registry was created');
  });
});
