import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';

/* The editor figures of `npm run bench`, measured inside a real VS Code against a model server
   that answers after 200 ms. Written to PROMPTGATE_VSCODE_BENCH as JSON. */

interface Api {
  refresh(): Promise<void>;
  runCases(ids: string[]): Promise<unknown>;
  lastRun(): { count: number; ids: string[] };
  timings(): { activateMs?: number; firstLoadMs?: number; saveRefreshMs?: number; saveRunMs?: number };
}

const ANN = 'greet.prompt.yml::golden::ann';
const phases: { total: number; refresh: number; run: number }[] = [];
const BOB = 'greet.prompt.yml::golden::bob';

async function saveAndWait(api: Api, uri: vscode.Uri, edit: (e: vscode.WorkspaceEdit) => void, expectedLensLine: number): Promise<number> {
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc);
  const we = new vscode.WorkspaceEdit();
  edit(we);
  await vscode.workspace.applyEdit(we);
  const before = api.lastRun().count;
  const t0 = performance.now();
  await doc.save();
  for (;;) {
    if (api.lastRun().count > before) {
      const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
      if (lenses.some((l) => l.command?.title.startsWith('✓') && l.range.start.line === expectedLensLine)) break;
    }
    if (performance.now() - t0 > 20_000) throw new Error('no updated lenses after save');
    await new Promise((r) => setTimeout(r, 2));
  }
  const ms = performance.now() - t0;
  phases.push({ total: Math.round(ms), refresh: Math.round(api.timings().saveRefreshMs ?? 0), run: Math.round(api.timings().saveRunMs ?? 0) });
  assert.ok(vscode.languages.getDiagnostics(uri).length === 0);
  return ms;
}

suite('editor bench', () => {
  test('activation, first load, save → CodeLens and diagnostics', async () => {
    const ext = vscode.extensions.getExtension('promptgate.promptgate')!;
    const api = (await ext.activate()) as Api;
    await api.refresh();
    const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const uri = vscode.Uri.file(path.join(root, 'greet.prompt.yml'));
    await api.runCases([ANN, BOB]); // answers cached from here on
    const cached: number[] = [];
    // An assertion edit: the case re-runs (a save re-runs what changed) and its answer is cached.
    const doc0 = await vscode.workspace.openTextDocument(uri);
    for (let i = 0; i < 5; i++) {
      const line = doc0.getText().split('\n').findIndex((l) => /value: hello/i.test(l));
      cached.push(await saveAndWait(api, uri, (e) => e.replace(uri, doc0.lineAt(line).range, doc0.lineAt(line).text.replace(/hello/i, i % 2 ? 'hello' : 'HELLO')), 9));
    }
    // One case changes its variables: that case calls the 200 ms model, the other is cached.
    const live: number[] = [];
    const doc = await vscode.workspace.openTextDocument(uri);
    for (let i = 0; i < 3; i++) {
      const line = doc.getText().split('\n').findIndex((l) => l.includes('who: Bob'));
      live.push(
        await saveAndWait(
          api,
          uri,
          (e) => {
            const text = doc.lineAt(line).text;
            e.replace(uri, doc.lineAt(line).range, text.replace(/who: Bob\w*/, `who: Bob${'b'.repeat(i + 1)}`));
          },
          14, // bob's lens
        ),
      );
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const figures = {
      activateMs: api.timings().activateMs,
      firstLoadMs: api.timings().firstLoadMs,
      saveToLensCachedMs: median(cached),
      saveToLensCachedAll: cached,
      saveToLensOneLiveCallMs: median(live),
      saveToLensOneLiveCallAll: live,
      phases,
      eventToUpdateCachedMs: median(phases.slice(0, 5).map((p) => p.run)),
      eventToUpdateOneLiveCallMs: median(phases.slice(5).map((p) => p.run)),
    };
    const out = process.env.PROMPTGATE_VSCODE_BENCH;
    if (out) await fs.writeFile(out, JSON.stringify(figures));
  });
});
