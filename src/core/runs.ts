import * as path from 'node:path';
import { createWriteStream, type WriteStream } from 'node:fs';
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { CaseResult } from './types/results';
import type { RunEvent } from './types/events';

/** A sortable, unique run id: UTC time plus a random suffix. */
export function newRunId(now: number): string {
  return `${new Date(now).toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
}

/**
 * Streams a run to `.promptgate/runs/<runId>.jsonl`: one `run` line, one `case` line per
 * finished sample, one `summary` line. Later features read runs instead of re-running.
 */
export class RunRecorder {
  private stream?: WriteStream;
  private failed?: Error;
  private pending: string[] = [];
  private flushScheduled = false;
  readonly file: string;

  constructor(runsDir: string, runId: string, private readonly meta: Record<string, unknown> = {}) {
    this.file = path.join(runsDir, `${runId}.jsonl`);
  }

  async open(): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    this.stream = createWriteStream(this.file, { flags: 'wx' });
    this.stream.on('error', (err) => (this.failed = err));
  }

  write(event: RunEvent): void {
    if (!this.stream) return;
    let line: string;
    if (event.type === 'run-started') line = JSON.stringify({ type: 'run', runId: event.runId, startedAt: event.startedAt, total: event.total, ...this.meta });
    // `{"type":"case", ...the result's fields}`, without copying the result first.
    else if (event.type === 'case-finished') line = `{"type":"case",${JSON.stringify(event.result).slice(1)}`;
    else if (event.type === 'run-finished') line = JSON.stringify({ type: 'summary', ...event.summary });
    else return;
    // Lines of one event-loop turn go out in one write instead of one syscall each.
    this.pending.push(`${line}\n`);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.stream || !this.pending.length) return;
    this.stream.write(this.pending.join(''));
    this.pending = [];
  }

  async close(): Promise<void> {
    const s = this.stream;
    if (!s) return;
    this.flush();
    await new Promise<void>((resolve) => s.end(resolve));
    if (this.failed) throw new Error(`could not write the run record ${this.file}: ${this.failed.message}`);
  }
}

/** Passes events through while recording them; the record is closed however the run ends. */
export async function* recorded(events: AsyncIterable<RunEvent>, recorder: RunRecorder): AsyncGenerator<RunEvent> {
  try {
    for await (const e of events) {
      recorder.write(e);
      yield e;
    }
  } finally {
    await recorder.close();
  }
}

/**
 * The newest recorded results of each wanted case: all samples of it from the newest run that
 * has any finished (passed or failed) sample of it. Unreadable lines (a run cut short) are skipped.
 */
export async function latestResults(runsDir: string, caseIds: ReadonlySet<string>, runOf?: Map<string, string>): Promise<Map<string, CaseResult[]>> {
  const found = new Map<string, CaseResult[]>();
  let files: string[];
  try {
    files = (await fs.readdir(runsDir)).filter((f) => f.endsWith('.jsonl')).sort().reverse();
  } catch {
    return found;
  }
  for (const f of files) {
    if (found.size === caseIds.size) break;
    const inThisRun = new Map<string, CaseResult[]>();
    const text = await fs.readFile(path.join(runsDir, f), 'utf8');
    for (const line of text.split('\n')) {
      if (!line.startsWith('{"type":"case"')) continue;
      let r: CaseResult & { type?: string };
      try {
        r = JSON.parse(line);
      } catch {
        continue;
      }
      if (!caseIds.has(r.caseId) || found.has(r.caseId)) continue;
      delete r.type;
      const list = inThisRun.get(r.caseId) ?? [];
      list.push(r);
      inThisRun.set(r.caseId, list);
    }
    for (const [id, list] of inThisRun) {
      if (!list.some((r) => r.status === 'passed' || r.status === 'failed')) continue;
      found.set(id, list);
      runOf?.set(id, f.replace(/\.jsonl$/, ''));
    }
  }
  return found;
}
