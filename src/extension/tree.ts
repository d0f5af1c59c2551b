import type * as vscode from 'vscode';
import type { EditorState } from './state';
import { toRange } from './convert';

/** The test tree: workspace folder → prompt file → suite → case, with ranges at each case. */
export class TestTree {
  /** Every test item by id, rebuilt with the tree. */
  readonly items = new Map<string, vscode.TestItem>();

  constructor(
    private readonly vs: typeof vscode,
    readonly controller: vscode.TestController,
  ) {}

  build(state: EditorState): void {
    const { vs, controller } = this;
    const top: vscode.TestItem[] = [];
    for (const { folder, project } of state.folders.values()) {
      if (!project.suites.length) continue;
      const folderItem = controller.createTestItem(folder.uri.toString(), folder.name, folder.uri);
      const prompts = new Map<string, vscode.TestItem>();
      for (const suite of project.suites) {
        let promptItem = prompts.get(suite.prompt.file);
        if (!promptItem) {
          promptItem = controller.createTestItem(suite.prompt.relFile, suite.prompt.relFile, vs.Uri.file(suite.prompt.file));
          promptItem.range = toRange(vs, suite.prompt.range);
          promptItem.description = `${suite.prompt.version ? `${suite.prompt.version} · ` : ''}${suite.prompt.versionId.slice(0, 7)}`;
          prompts.set(suite.prompt.file, promptItem);
          folderItem.children.add(promptItem);
        }
        const suiteItem = controller.createTestItem(`${suite.relFile}::${suite.name}`, suite.name, vs.Uri.file(suite.file));
        suiteItem.range = toRange(vs, suite.range);
        suiteItem.description = suite.kind;
        for (const c of suite.cases) {
          const item = controller.createTestItem(c.id, c.name, vs.Uri.file(c.file));
          item.range = toRange(vs, c.range);
          item.tags = [];
          suiteItem.children.add(item);
        }
        promptItem.children.add(suiteItem);
      }
      top.push(folderItem);
    }
    controller.items.replace(top);
    this.items.clear();
    const index = (item: vscode.TestItem) => {
      this.items.set(item.id, item);
      item.children.forEach(index);
    };
    top.forEach(index);
  }

  /** The ids of a case's test item and of every item above it. */
  ancestry(id: string): string[] {
    const out: string[] = [];
    for (let item = this.items.get(id); item; item = item.parent) out.push(item.id);
    return out;
  }

  /** The case ids a run request covers: the leaves under what it includes (everything when nothing), minus what it excludes. */
  leaves(request: vscode.TestRunRequest): Set<string> {
    const include: vscode.TestItem[] = [];
    if (request.include?.length) include.push(...request.include);
    else this.controller.items.forEach((i) => include.push(i));
    const excluded = new Set((request.exclude ?? []).map((i) => i.id));
    const ids = new Set<string>();
    const addLeaves = (item: vscode.TestItem) => {
      if (excluded.has(item.id)) return;
      if (item.children.size === 0) ids.add(item.id);
      else item.children.forEach(addLeaves);
    };
    include.forEach(addLeaves);
    return ids;
  }
}
