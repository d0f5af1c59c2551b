import { attackRateLine, caseModel, caseTitle, completionLine, stepLines, failingSample, isPackAttack, judgeLine, LOW_JUDGE_AGREEMENT, provenanceLines, renderDiff, suiteMetricLines, truncate, unsupportedLines, verdictLine, type SessionEvent } from '../../core';
import { colors, type CliIO } from '../io';
import type { RunReport } from './types';

/** Live progress on a terminal, then regressions with their diff, failures with expected and actual, a table and totals. */
export class TextReporter {
  private done = 0;
  private total = 0;
  private failures = 0;
  private lastDraw = 0;
  private readonly c;

  constructor(private readonly io: CliIO, private readonly toStdout: boolean) {
    this.c = colors(io);
  }

  onEvent(e: SessionEvent): void {
    if (e.type === 'run-started') this.total = e.total;
    if (e.type === 'samples-added') this.total += e.added;
    if (e.type === 'warning') {
      this.clearLine();
      this.io.err(`${this.c.yellow('warning')}: ${e.message}\n`);
    }
    if (e.type === 'run-stopped') {
      this.clearLine();
      this.io.err(`${this.c.red('error')}: ${e.reason}; stopping the run\n`);
    }
    if (e.type !== 'case-finished') return;
    this.done++;
    if (e.result.status === 'failed' || e.result.status === 'errored') this.failures++;
    if (!this.io.isTTY) return;
    const now = this.io.now();
    if (now - this.lastDraw < 80 && this.done < this.total) return;
    this.lastDraw = now;
    const pct = this.total ? Math.floor((this.done / this.total) * 100) : 100;
    this.io.err(`\r\x1b[2K${this.c.dim(`running ${this.done}/${this.total} (${pct}%)`)}${this.failures ? ` ${this.c.red(`${this.failures} failing`)}` : ''}`);
  }

  private clearLine() {
    if (this.io.isTTY && this.lastDraw) this.io.err('\r\x1b[2K');
  }

  finish(report: RunReport): void {
    this.clearLine();
    if (!this.toStdout) return;
    const { c } = this;
    const marks = { added: (s: string) => (this.io.isTTY && !this.io.env.NO_COLOR ? c.green(s) : `{+${s}+}`), removed: (s: string) => (this.io.isTTY && !this.io.env.NO_COLOR ? c.red(s) : `[-${s}-]`) };
    const lines: string[] = [];
    const where = (o: RunReport['outcomes'][number]) => c.dim(`${report.display(o.spec.relFile)}:${o.spec.range.start.line + 1}`);

    const regressed = report.outcomes.filter((o) => o.verdict.kind === 'regressed');
    if (regressed.length) {
      lines.push(c.bold(`Regressions (${regressed.length}):`), '');
      regressed.forEach((o, i) => {
        lines.push(`  ${i + 1}) ${c.red('REGRESSED')} ${caseTitle(o)}  ${where(o)}`, `     ${verdictLine(o.verdict)}`);
        const judge = judgeLine(o);
        if (judge) lines.push(`     ${o.judgeAgreement !== undefined && o.judgeAgreement < LOW_JUDGE_AGREEMENT ? c.yellow(judge) : judge}`);
        const r = failingSample(o);
        for (const a of r?.assertions.filter((x) => !x.pass) ?? []) lines.push(`     ${c.red('✗')} ${a.type}${a.metric ? ` (${a.metric})` : ''}: ${a.reason}`);
        if (r?.error) lines.push(`     ${r.error.kind}: ${r.error.message}`);
        if (o.change) lines.push(`     baseline → now:`, ...indent(renderDiff(o.change.diff, marks), 7));
        lines.push('');
      });
    }

    const bad = report.outcomes.filter((o) => o.verdict.kind === 'errored' || (o.verdict.kind === 'new' && !o.verdict.passing && !isPackAttack(o)));
    if (bad.length) {
      lines.push(c.bold(`Failures (${bad.length}):`), '');
      bad.forEach((o, i) => {
        const r = failingSample(o);
        const errored = o.verdict.kind === 'errored';
        lines.push(`  ${i + 1}) ${errored ? c.red('ERROR') : c.red('FAIL')} ${caseTitle(o)}  ${where(o)}`);
        if (o.results.length > 1) lines.push(`     ${verdictLine(o.verdict)}`);
        if (r?.error) lines.push(`     ${r.error.kind}: ${r.error.message}`);
        for (const a of r?.assertions.filter((x) => !x.pass) ?? []) {
          lines.push(`     ${c.red('✗')} ${a.type}${a.metric ? ` (${a.metric})` : ''}: ${a.reason}`);
          if (a.expected !== undefined) lines.push(`       expected: ${truncate(oneLine(a.expected), 160)}`);
          lines.push(`       actual:   ${truncate(oneLine(r?.output ?? ''), 160)}`);
        }
        if (r?.steps) lines.push('     steps:', ...stepLines(r.steps, 150).map((l) => `       ${l}`));
        lines.push('');
      });
    }

    const notable = report.outcomes.filter((o) => o.verdict.kind === 'flaky' || o.verdict.kind === 'improved');
    if (notable.length) {
      lines.push(c.bold('Flaky and improved:'));
      for (const o of notable) lines.push(`  ${o.verdict.kind === 'flaky' ? c.yellow('FLAKY') : c.green('IMPROVED')} ${caseTitle(o)}  ${where(o)}  ${c.dim(verdictLine(o.verdict))}`);
      lines.push('');
    }
    if (report.removed.length) {
      lines.push(c.dim(`${report.removed.length} approved case${report.removed.length === 1 ? ' is' : 's are'} no longer in the files (removed): ${report.removed.slice(0, 5).map((v) => v.caseId).join(', ')}${report.removed.length > 5 ? ', …' : ''}`), '');
    }
    const unsupported = unsupportedLines(report.outcomes);
    if (unsupported.length) lines.push(c.yellow(unsupported[0]), ...unsupported.slice(1).map((l) => c.dim(l)), '');
    const completion = completionLine(report.outcomes);
    if (completion) lines.push(completion, '');
    const perSuite = suiteMetricLines(report);
    if (perSuite.length) lines.push('metrics (summed over each suite\'s cases; = derived):', ...perSuite.map((l) => `  ${l}`), '');
    const stale = new Set(report.outcomes.filter((o) => o.verdict.baseline?.stale).map((o) => `${o.spec.prompt.relFile} (baseline for ${o.verdict.baseline!.versionId}, now ${o.spec.prompt.versionId})`));
    if (stale.size) lines.push(c.yellow(`The prompt changed since these baselines were approved: ${[...stale].join(', ')}`), '');
    const provenance = provenanceLines(report.outcomes);
    if (provenance.length) lines.push(...provenance.map((l) => c.yellow(l)), '');

    if (report.attacks.length) {
      lines.push(c.bold('Attack success by category (adversarial suites):'));
      const width = Math.max(...report.attacks.map((a) => a.category.length));
      for (const a of report.attacks) {
        const line = `  ${a.category.padEnd(width)}  ${String(a.cases).padStart(4)} cases  ${attackRateLine(a)}${a.regressed ? `; ${a.regressed} regressed` : ''}`;
        lines.push(a.rose || a.regressed ? c.red(line) : a.successes ? c.yellow(line) : line);
        for (const w of a.worst) {
          const o = report.outcomes.find((x) => x.spec.id === w.caseId)!;
          lines.push(c.dim(`      ${w.successes}/${w.attempts} ${truncate(w.name, 70)}  ${report.display(o.spec.relFile)}:${o.spec.range.start.line + 1}  → ${truncate(oneLine(w.output), 80)}`));
        }
      }
      lines.push('');
    }
    lines.push(...this.table(report), '');
    const s = report.summary;
    const parts = [c.green(`${s.passed} passed`), (s.failed ? c.red : (x: string) => x)(`${s.failed} failed`), (s.errored ? c.red : (x: string) => x)(`${s.errored} errored`)];
    if (s.skipped) parts.push(c.yellow(`${s.skipped} skipped`));
    const extras = [
      `${(s.durationMs / 1000).toFixed(2)} s`,
      `${s.hits}/${s.total} from ${report.mode === 'replay' ? 'cassettes' : 'cache'}`,
      `${s.tokens.totalTokens.toLocaleString('en-US')} tokens`,
      `$${s.cost > 0 && s.cost < 0.01 ? s.cost.toFixed(6) : s.cost.toFixed(4)}`,
    ];
    if (report.judge?.calls) extras.push(`judge: ${report.judge.calls} calls, ${report.judge.tokens.toLocaleString('en-US')} tokens, $${report.judge.usd.toFixed(4)}`);
    lines.push(`${parts.join(', ')}  ${c.dim(`(${extras.join(' · ')})`)}`);
    const counts = Object.entries(report.counts).filter(([, n]) => n > 0);
    lines.push(`verdicts: ${counts.map(([k, n]) => `${n} ${k}`).join(', ')}${report.stopped ? ` — ${c.red(`stopped (${report.stopped.reason}): the gate was not decided`)}` : report.gate === 'failed' ? ` — ${c.red('gate failed')}` : ` — ${c.green('gate passed')}`}`);
    const metrics = Object.entries(s.metrics);
    if (metrics.length) lines.push(c.dim(`metrics: ${metrics.map(([k, m]) => `${k} ${(m.score * 100).toFixed(0)}% (${m.passed}/${m.count})`).join(', ')}`));
    this.io.out(`${lines.join('\n')}\n`);
  }

  private table(report: RunReport): string[] {
    type Row = { prompt: string; version: string; suite: string; model: string; cases: number; samples: number; counts: Record<string, number> };
    const groups = new Map<string, Row>();
    for (const o of report.outcomes) {
      const key = `${o.spec.prompt.relFile}\u0000${o.spec.suite}\u0000${caseModel(o.spec)}`;
      const g = groups.get(key) ?? { prompt: report.display(o.spec.prompt.relFile), version: `${o.spec.prompt.version ? `${o.spec.prompt.version} ` : ''}${o.spec.prompt.versionId.slice(0, 7)}`, suite: o.spec.suite, model: caseModel(o.spec), cases: 0, samples: 0, counts: {} };
      g.cases++;
      g.samples += o.results.length;
      const k = o.verdict.kind === 'new' ? (o.verdict.passing ? 'pass' : 'fail') : o.verdict.kind;
      g.counts[k] = (g.counts[k] ?? 0) + 1;
      groups.set(key, g);
    }
    const cols = ['pass', 'fail', 'regressed', 'improved', 'flaky', 'errored'];
    const rows = [['prompt', 'version', 'suite', 'model', 'cases', 'samples', ...cols]];
    for (const g of groups.values()) rows.push([g.prompt, g.version, g.suite, g.model, String(g.cases), String(g.samples), ...cols.map((k) => String(g.counts[k] ?? 0))]);
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r, ri) => {
      const line = r.map((cell, i) => (i >= 4 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
      return ri === 0 ? this.c.dim(line) : line;
    });
  }
}

function oneLine(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

function indent(text: string, n: number): string[] {
  return text.split('\n').map((l) => `${' '.repeat(n)}${l}`);
}
