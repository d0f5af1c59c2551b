import * as path from 'node:path';
import { createWriteStream, type WriteStream } from 'node:fs';
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { RunEvent } from './runner';

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
    let line: unknown;
    if (event.type === 'run-started') line = { type: 'run', runId: event.runId, startedAt: event.startedAt, total: event.total, samples: event.samples, ...this.meta };
    else if (event.type === 'case-finished') line = { type: 'case', ...event.result };
    else if (event.type === 'run-finished') line = { type: 'summary', ...event.summary };
    else return;
    // Lines of one event-loop turn go out in one write instead of one syscall each.
    this.pending.push(`${JSON.stringify(line)}\n`);
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
