import type * as vscode from 'vscode';
import { verdictsTitle, verdictTitle, type CaseOutcome, type CaseSpec } from '../core';
import { toRange } from './convert';
import type { RegistryView } from './registry';
import type { EditorState } from './state';

/** CodeLens: run, last verdict, diff and approve above each prompt, suite and case; registry labels on prompts. */
export class Lenses {
  constructor(
    private readonly vs: typeof vscode,
    private readonly state: EditorState,
    private readonly registry: RegistryView,
    /** Parsing is lazy: the first lens request starts loading, and lenses are asked for again when it is done. */
    private readonly ensureLoaded: () => void,
  ) {}

  provide(doc: vscode.TextDocument): vscode.CodeLens[] {
    const { vs, state } = this;
    if (!state.folders.size) {
      this.ensureLoaded();
      return [];
    }
    const file = doc.uri.fsPath;
    const lenses: vscode.CodeLens[] = [];
    const all = state.allCases();
    const cases = all.filter((c) => c.file === file);
    const promptCases = all.filter((c) => c.prompt.file === file);
    const lens = (range: vscode.Range, title: string, command: string, args: unknown[] = [], tooltip?: string) => lenses.push(new vs.CodeLens(range, { title, command, arguments: args, tooltip }));
    const summary = (list: CaseSpec[]) => verdictsTitle(list.map((c) => state.outcomes.get(c.id)).filter((o): o is CaseOutcome => !!o).map((o) => o.verdict));
    if (promptCases.length) {
      const r = toRange(vs, promptCases[0].prompt.range);
      const ids = promptCases.map((c) => c.id);
      lens(r, `▶ Run ${promptCases.length} case${promptCases.length === 1 ? '' : 's'}`, 'promptgate.runCases', [ids]);
      const s = summary(promptCases);
      if (s) lens(r, s, 'promptgate.runCases', [ids]);
    }
    // Registry labels on this content, or their drift, and Promote… (prompts without suites too).
    for (const prompt of [...state.folders.values()].flatMap((f) => f.project.prompts.filter((p) => p.file === file))) {
      for (const l of this.registry.lenses(prompt)) lens(toRange(vs, prompt.range), l.title, l.command, l.args, l.tooltip);
    }
    const suites = new Map<string, CaseSpec[]>();
    for (const c of cases) suites.set(c.suite, [...(suites.get(c.suite) ?? []), c]);
    for (const list of suites.values()) {
      const suite = state.stateFor(list[0])?.project.suites.find((s) => s.cases.includes(list[0]));
      if (suite && (suite.file !== file || suite.range.start.line !== list[0].range.start.line)) lens(toRange(vs, suite.range), `▶ Run suite ${suite.name}`, 'promptgate.runCases', [list.map((c) => c.id)]);
    }
    // Cases that share a line (the attacks of one pack) get one set of lenses for all of them.
    const byLine = new Map<number, CaseSpec[]>();
    for (const c of cases) byLine.set(c.range.start.line, [...(byLine.get(c.range.start.line) ?? []), c]);
    for (const group of byLine.values()) {
      if (group.length < 2) continue;
      const r = toRange(vs, group[0].range);
      const ids = group.map((c) => c.id);
      lens(r, `▶ Run ${group.length} ${group[0].attack ? 'attacks' : 'cases'}`, 'promptgate.runCases', [ids]);
      const s = summary(group);
      if (!s) continue;
      lens(r, s, 'promptgate.runCases', [ids]);
      if (group.some((c) => state.outcomes.get(c.id)?.change)) lens(r, 'Diff', 'promptgate.showDiff', []);
      lens(r, 'Approve', 'promptgate.approve', [ids]);
    }
    for (const c of cases) {
      if (byLine.get(c.range.start.line)!.length > 1) continue;
      const r = toRange(vs, c.range);
      if (c.skip) {
        // Not runnable as it is: the lens says why, in full on hover (a --model run may still run a case without a model).
        lens(r, `⊘ Skipped: ${c.skip.reason.length > 70 ? `${c.skip.reason.slice(0, 69)}…` : c.skip.reason}`, '', [], `${c.skip.reason} (${c.skip.where})`);
        continue;
      }
      lens(r, '▶ Run', 'promptgate.runCases', [[c.id]]);
      const o = state.outcomes.get(c.id);
      if (!o) continue;
      // An agent case: its pass rate, and how many steps its samples took (the most any took).
      const steps = c.agent ? Math.max(0, ...o.results.map((x) => x.steps?.length ?? 0)) : 0;
      lens(r, `${verdictTitle(o.verdict)}${steps ? ` · ${steps} step${steps === 1 ? '' : 's'}` : ''}`, 'promptgate.runCases', [[c.id]]);
      if (o.verdict.kind === 'regressed' || o.change) lens(r, 'Diff', 'promptgate.showDiff', [c.id]);
      lens(r, 'Approve', 'promptgate.approve', [[c.id]]);
    }
    return lenses;
  }
}
