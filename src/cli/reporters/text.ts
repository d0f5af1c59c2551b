import type { CaseResult, RunEvent } from '../../core';
import { colors, type CliIO } from '../io';
import { caseTitle, truncate, type RunReport } from './types';

/** Live progress on a terminal, then failures with expected and actual, a table per suite and the totals. */
export class TextReporter {
  private done = 0;
  private total = 0;
  private failures = 0;
  private lastDraw = 0;
  private readonly c;

  constructor(private readonly io: CliIO, private readonly toStdout: boolean) {
    this.c = colors(io);
  }

  onEvent(e: RunEvent): void {
    if (e.type === 'run-started') this.total = e.total;
    if (e.type === 'samples-added') this.total += e.added;
    if (e.type === 'warning') {
      this.clearLine();
      this.io.err(`${this.c.yellow('warning')}: ${e.message}\n`);
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
    const lines: string[] = [];
    const bad = report.results.filter((r) => r.status === 'failed' || r.status === 'errored');
    if (bad.length) {
      lines.push(c.bold(`Failures (${bad.length}):`), '');
      bad.forEach((r, i) => {
        const where = `${report.display(r.file)}:${r.line + 1}`;
        lines.push(`  ${i + 1}) ${r.status === 'errored' ? c.red('ERROR') : c.red('FAIL')} ${caseTitle(r)}  ${c.dim(where)}`);
        if (r.error) lines.push(`     ${r.error.kind}: ${r.error.message}`);
        for (const a of r.assertions.filter((x) => !x.pass)) {
          lines.push(`     ${c.red('✗')} ${a.type}${a.metric ? ` (${a.metric})` : ''}: ${a.reason}`);
          if (a.expected !== undefined) lines.push(`       expected: ${truncate(oneLine(a.expected), 160)}`);
          lines.push(`       actual:   ${truncate(oneLine(r.output ?? ''), 160)}`);
        }
        lines.push('');
      });
    }
    lines.push(...this.table(report), '');
    const s = report.summary;
    const parts = [
      c.green(`${s.passed} passed`),
      (s.failed ? c.red : (x: string) => x)(`${s.failed} failed`),
      (s.errored ? c.red : (x: string) => x)(`${s.errored} errored`),
    ];
    if (s.skipped) parts.push(c.yellow(`${s.skipped} skipped`));
    const extras = [
      `${(s.durationMs / 1000).toFixed(2)} s`,
      `${s.hits}/${s.total} from ${report.mode === 'replay' ? 'cassettes' : 'cache'}`,
      `${s.tokens.totalTokens.toLocaleString('en-US')} tokens`,
      `$${s.cost > 0 && s.cost < 0.01 ? s.cost.toFixed(6) : s.cost.toFixed(4)}`,
    ];
    lines.push(`${parts.join(', ')}  ${c.dim(`(${extras.join(' · ')})`)}`);
    const metrics = Object.entries(s.metrics);
    if (metrics.length) lines.push(c.dim(`metrics: ${metrics.map(([k, m]) => `${k} ${(m.score * 100).toFixed(0)}% (${m.passed}/${m.count})`).join(', ')}`));
    this.io.out(`${lines.join('\n')}\n`);
  }

  private table(report: RunReport): string[] {
    const groups = new Map<string, { prompt: string; version: string; suite: string; counts: Record<CaseResult['status'], number> }>();
    const versions = new Map(report.prompts.map((p) => [p.relFile, `${p.version ? `${p.version} ` : ''}${p.versionId.slice(0, 7)}`]));
    for (const r of report.results) {
      const key = `${r.prompt}\u0000${r.suite}`;
      const g = groups.get(key) ?? { prompt: report.display(r.prompt), version: versions.get(r.prompt) ?? r.promptVersionId.slice(0, 7), suite: r.suite, counts: { passed: 0, failed: 0, errored: 0, skipped: 0 } };
      g.counts[r.status]++;
      groups.set(key, g);
    }
    const rows = [['prompt', 'version', 'suite', 'passed', 'failed', 'errored', 'skipped']];
    for (const g of groups.values()) rows.push([g.prompt, g.version, g.suite, String(g.counts.passed), String(g.counts.failed), String(g.counts.errored), String(g.counts.skipped)]);
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r, ri) => {
      const line = r.map((cell, i) => (i >= 3 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
      return ri === 0 ? this.c.dim(line) : line;
    });
  }
}

function oneLine(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

