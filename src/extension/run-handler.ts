import type * as vscode from 'vscode';
import {
  completionLine,
  provenanceLines,
  stepLines,
  unsupportedLines,
  caseFingerprint,
  countsLine,
  countVerdicts,
  formatDiagnostic,
  reasonLine,
  runSession,
  attackReport,
  type CaseOutcome,
  type CaseResult,
  type CaseSpec,
  type CaseVerdict,
  type RunReport,
} from '../core';
import { toRange } from './convert';
import type { Problems } from './diagnostics';
import type { ResultsPanel } from './results';
import type { EditorState, FolderState } from './state';
import type { TestTree } from './tree';

/** What a finished run leaves for lenses, diagnostics, diffs and tests. */
export interface RunSummaryForEditor {
  outcomes: CaseOutcome[];
  counts: Record<string, number>;
  gateFailed: boolean;
  /** Approved cases that are gone, from suites that ran whole. */
  removed: CaseVerdict[];
  /** Why a folder's run ended early (the budget, a refused key, a cancel), if it did. */
  stopped: string[];
}

export interface RunHandlerDeps {
  state: EditorState;
  tree: TestTree;
  problems: Problems;
  results: ResultsPanel;
  status: vscode.StatusBarItem;
  log: vscode.LogOutputChannel;
  lensesChanged(): void;
  /** Approves the cases of a finished run (the "Run and approve" profile). */
  approve(ids: string[]): Promise<void>;
}

/** What a run profile or command asks of a run beyond its cases. */
export interface EditorRunOptions {
  samples?: number;
  /** Sample as a baseline, then approve (the "Run and approve as baseline" profile, "Top up and approve"). */
  approve?: boolean;
  /** Ignore the response cache (the "Run fresh" profile and command). */
  fresh?: boolean;
}

/**
 * Runs from the editor: a Testing API request becomes one core session per workspace folder, and
 * the session's events become the TestRun's states and output, the Problems, the CodeLens, the
 * status bar and the results panel. It decides nothing: verdicts, the gate and the budget are core's.
 */
export class RunHandler {
  lastRun: string[] = [];
  runCount = 0;
  /** The last run's reports (one per folder): its summary and gate head the results panel. */
  private lastReports: RunReport[] = [];

  constructor(
    private readonly vs: typeof vscode,
    private readonly deps: RunHandlerDeps,
  ) {}

  async run(request: vscode.TestRunRequest, token: vscode.CancellationToken, options: EditorRunOptions = {}): Promise<RunSummaryForEditor | undefined> {
    const { approve = false } = options;
    const { vs } = this;
    const { state, tree, log } = this.deps;
    const ids = tree.leaves(request);
    const cases = state.allCases().filter((c) => ids.has(c.id));
    const run = tree.controller.createTestRun(request, 'PromptGate', true);
    const itemOf = new Map(tree.items);
    if (!vs.workspace.isTrusted) {
      for (const c of cases) {
        const item = itemOf.get(c.id);
        if (item) run.skipped(item);
      }
      run.appendOutput('PromptGate: this workspace is not trusted, so nothing calls a model and no javascript assertion runs. Trust the workspace to run.\r\n');
      run.end();
      void vs.window.showWarningMessage('PromptGate: runs are disabled in an untrusted workspace.');
      return undefined;
    }
    for (const c of cases) {
      const item = itemOf.get(c.id);
      if (item) run.enqueued(item);
    }
    const byFolder = new Map<FolderState, CaseSpec[]>();
    for (const c of cases) {
      const s = state.stateFor(c);
      if (!s) continue;
      const list = byFolder.get(s);
      if (list) list.push(c);
      else byFolder.set(s, [c]);
    }
    const reports: RunReport[] = [];
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    try {
      for (const [folder, specs] of byFolder) {
        const report = await this.runFolder(folder, specs, run, itemOf, abort.signal, options);
        if (report) reports.push(report);
      }
      if (approve && !abort.signal.aborted) await this.deps.approve(reports.flatMap((r) => r.outcomes.map((o) => o.spec.id)));
    } catch (err) {
      log.error(`run failed: ${(err as Error).stack ?? String(err)}`);
      run.appendOutput(`PromptGate: ${(err as Error).message}\r\n`);
      const done = new Set(reports.flatMap((r) => r.outcomes.map((o) => o.spec.id)));
      for (const c of cases) {
        const item = itemOf.get(c.id);
        if (item && !done.has(c.id)) run.errored(item, new vs.TestMessage((err as Error).message));
      }
    } finally {
      run.end();
    }
    const outcomes = reports.flatMap((r) => r.outcomes);
    const removed = reports.flatMap((r) => r.removed);
    this.lastRun = outcomes.map((o) => o.spec.id);
    this.lastReports = reports;
    this.runCount++;
    const counts = countVerdicts([...outcomes.map((o) => o.verdict), ...removed]);
    // After "Run and approve", what is shown is judged against the baselines just written.
    if (approve) this.present();
    else this.present(counts);
    return { outcomes, counts, gateFailed: reports.some((r) => r.gate === 'failed'), removed, stopped: reports.flatMap((r) => (r.stopped ? [r.stopped.reason] : [])) };
  }

  /** Shows the latest outcomes everywhere: status bar, Problems, CodeLens, results panel. */
  present(counts?: Record<string, number>): void {
    const { state, status, problems, results } = this.deps;
    const latest = [...state.outcomes.values()];
    const ran = new Set(this.lastRun);
    const last = latest.filter((o) => ran.has(o.spec.id));
    counts ??= countVerdicts(last.map((o) => o.verdict));
    status.text = `$(beaker) ${counts.regressed ? `$(warning) ${counts.regressed} regressed` : `$(check) ${last.filter((o) => o.verdict.passing).length}/${last.length}`}`;
    status.tooltip = `PromptGate: ${countsLine(counts)}`;
    problems.publishOutcomes(state);
    this.deps.lensesChanged();
    const one = this.lastReports.length === 1 ? this.lastReports[0] : undefined;
    void results.showLatest({
      outcomes: latest,
      attacks: attackReport(latest, state.policyAlpha()),
      counts: countVerdicts(latest.map((o) => o.verdict)),
      gate: this.lastReports.some((r) => r.gate === 'stopped') ? 'stopped' : this.lastReports.some((r) => r.gate === 'failed') ? 'failed' : this.lastReports.length ? 'passed' : undefined,
      ...(one ? { summary: one.summary, mode: one.mode, judge: one.judge, suites: one.suites, stopped: one.stopped } : {}),
    });
  }

  private async runFolder(folder: FolderState, specs: CaseSpec[], run: vscode.TestRun, itemOf: Map<string, vscode.TestItem>, signal: AbortSignal, options: EditorRunOptions): Promise<RunReport | undefined> {
    const { vs } = this;
    const { state } = this.deps;
    if (folder.configErrors.length) throw new Error(`fix promptgate.config.yml first:\n${folder.configErrors.join('\n')}`);
    const settings = state.settings(folder.folder.uri);
    const key = await state.apiKey();
    const session = runSession(
      {
        project: folder.project,
        config: folder.config,
        cases: specs,
        mode: 'live',
        // A fresh run asks the model again: a provider that changed the model behind the same name shows.
        cache: !options.fresh,
        // "Run and approve as baseline" samples each case until it is strong enough to be one.
        asBaseline: options.approve,
        // A run profile's samples, then the settings, then the files.
        overrides: [{ samples: options.samples }, { samples: settings.samples ?? undefined, concurrency: settings.concurrency ?? undefined, baseURL: settings.baseURL || undefined }],
        budget: settings.budget ?? undefined,
        meta: { from: 'vscode' },
        signal,
      },
      {
        env: { ...state.ports.env, ...(key ? { OPENAI_API_KEY: key } : {}) },
        now: () => Date.now(),
        overBudget: async (estimate, budget) =>
          (await vs.window.showWarningMessage(
            `PromptGate: this run would cost about $${estimate.usd.toFixed(4)} (${estimate.calls} model calls), over your budget of $${budget}.`,
            { modal: true, detail: 'Cached cases are free and not counted. Change promptgate.budget to move the limit.' },
            'Run anyway',
          )) === 'Run anyway',
      },
    );
    const started = new Set<string>();
    for await (const e of session) {
      switch (e.type) {
        case 'not-run': {
          const r = e.reason;
          if (r.kind === 'baselines') throw new Error(r.diagnostics.map((d) => formatDiagnostic(d)).join('\n'));
          if (r.kind === 'provider') throw new Error(r.message);
          for (const c of specs) {
            const item = itemOf.get(c.id);
            if (item) run.skipped(item);
          }
          run.appendOutput(`PromptGate: not run, over the budget of $${r.budget} (estimated $${r.estimate.usd.toFixed(4)}).\r\n`);
          return undefined;
        }
        case 'case-started':
          if (!started.has(e.caseId)) {
            started.add(e.caseId);
            const item = itemOf.get(e.caseId);
            if (item) run.started(item);
          }
          break;
        case 'case-finished':
          run.appendOutput(transcript(e.spec, e.result), undefined, itemOf.get(e.result.caseId));
          break;
        case 'warning':
          this.deps.log.warn(e.message);
          break;
        case 'run-stopped':
          run.appendOutput(`PromptGate stopped the run: ${e.reason}\r\n`);
          void vs.window.showErrorMessage(`PromptGate stopped the run: ${e.reason}`);
          break;
        case 'budget-reached':
          run.appendOutput(`PromptGate: $${e.spentUsd.toFixed(4)} spent, the budget of $${e.budget} is reached; the rest is skipped.\r\n`);
          void vs.window.showWarningMessage(`PromptGate stopped the run: $${e.spentUsd.toFixed(4)} spent reaches your budget of $${e.budget}.`);
          break;
        case 'case-verdict':
          this.showVerdict(e.outcome, run, itemOf.get(e.outcome.spec.id));
          break;
        case 'suite-finished':
          if (e.removed.length) run.appendOutput(`PromptGate: ${e.removed.length} approved case${e.removed.length === 1 ? ' is' : 's are'} no longer in ${e.prompt} › ${e.suite} (removed): ${e.removed.map((v) => v.caseId).join(', ')}. Approve the suite to drop ${e.removed.length === 1 ? 'it' : 'them'}.\r\n`);
          break;
        case 'run-finished':
          // Verdicts that rest on cached answers, and a model that changed under the same name, are said at the end of every run.
          for (const line of provenanceLines(e.report.outcomes)) run.appendOutput(`PromptGate: ${line}.\r\n`);
          for (const line of unsupportedLines(e.report.outcomes)) run.appendOutput(`PromptGate: ${line}\r\n`);
          const completion = completionLine(e.report.outcomes);
          if (completion) run.appendOutput(`PromptGate: ${completion}\r\n`);
          return e.report;
      }
    }
    return undefined;
  }

  private showVerdict(o: CaseOutcome, run: vscode.TestRun, item: vscode.TestItem | undefined): void {
    const { vs } = this;
    this.deps.state.outcomes.set(o.spec.id, o);
    if (o.verdict.kind !== 'skipped') this.deps.state.ranFingerprints.set(o.spec.id, caseFingerprint(o.spec));
    if (!item) return;
    const duration = o.results.reduce((s, r) => s + (r.source === 'live' ? (r.latencyMs ?? 0) : 0), 0);
    const v = o.verdict;
    const location = new vs.Location(vs.Uri.file(o.spec.file), toRange(vs, o.spec.range));
    const message = (text: string) => Object.assign(new vs.TestMessage(text), { location });
    if (v.kind === 'skipped') run.skipped(item);
    else if (v.kind === 'errored') {
      const r = o.results.find((x) => x.error);
      run.errored(item, message(`${r?.error?.kind ?? 'error'}: ${r?.error?.message ?? 'every sample errored'}`), duration);
    } else if (v.kind === 'regressed') {
      const m = o.change ? vs.TestMessage.diff(`Regressed: ${reasonLine(o)}`, o.change.before, o.change.after) : new vs.TestMessage(`Regressed: ${reasonLine(o)}`);
      m.location = location;
      run.failed(item, m, duration);
    } else if (v.passing) run.passed(item, duration);
    else if (v.kind === 'fail' || v.kind === 'flaky') run.failed(item, message(`${v.kind === 'fail' ? 'Fails, as approved' : 'Flaky'}: ${reasonLine(o)}`), duration);
    else run.failed(item, message(reasonLine(o)), duration);
  }
}

/** The run's output for one sample: rendered messages, output, scores, tokens and latency. */
function transcript(spec: CaseSpec, r: CaseResult): string {
  const lines = [`── ${spec.prompt.relFile} › ${spec.suite} › ${spec.name} #${r.sample}: ${r.status}`];
  for (const m of spec.request.messages) lines.push(`[${m.role}] ${m.content}`);
  if (r.steps) lines.push('[steps]', ...stepLines(r.steps).map((l) => `  ${l}`));
  if (r.output !== undefined) lines.push(`[output] ${r.output}`);
  for (const a of r.assertions) lines.push(`  ${a.pass ? '✓' : '✗'} ${a.type} (score ${a.score.toFixed(2)}): ${a.reason}`);
  if (r.error) lines.push(`  error ${r.error.kind}: ${r.error.message}`);
  lines.push(`  ${r.source ?? ''} · ${Math.round(r.latencyMs ?? 0)} ms · ${r.usage?.totalTokens ?? 0} tokens${r.cost !== undefined ? ` · $${r.cost.toFixed(6)}` : ''}`, '');
  // The test output is a terminal: every line break, including those inside outputs, is CRLF.
  return lines.join('\n').replace(/\r?\n/g, '\r\n');
}
