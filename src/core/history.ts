import * as path from 'node:path';
import { createReadStream, promises as fs } from 'node:fs';
import { createInterface } from 'node:readline';
import type { CaseResult } from './types/results';

/** One recorded run of one prompt: what its history chart plots. */
export interface HistoryPoint {
  runId: string;
  startedAt: string;
  /** Passed samples over answered (passed or failed) ones. */
  passRate?: number;
  passed: number;
  answered: number;
  cases: number;
  /** Cost of the run's live calls for this prompt (cache and cassette answers cost nothing). */
  costUsd: number;
  /** Mean model latency of the answered samples (recorded latency for cache and replay hits). */
  latencyMs?: number;
  /** The run was made with another model than the files name (`--model`). */
  model?: string;
}

export interface PromptHistory {
  prompt: string;
  /** Oldest first. */
  points: HistoryPoint[];
}

/**
 * Each prompt's pass rate, cost and latency over the newest `limit` recorded runs
 * (`.promptgate/runs/*.jsonl`), read line by line so a large record is never held whole. A line
 * that does not parse (a run cut short) is skipped, and a record without a `run` line is left out.
 */
export async function runHistory(runsDir: string, limit = 30): Promise<PromptHistory[]> {
  let files: string[];
  try {
    files = (await fs.readdir(runsDir)).filter((f) => f.endsWith('.jsonl')).sort().slice(-limit);
  } catch {
    return [];
  }
  const byPrompt = new Map<string, HistoryPoint[]>();
  for (const f of files) {
    const points = await readRecord(path.join(runsDir, f));
    for (const [prompt, point] of points) byPrompt.set(prompt, [...(byPrompt.get(prompt) ?? []), point]);
  }
  return [...byPrompt].sort(([a], [b]) => a.localeCompare(b)).map(([prompt, points]) => ({ prompt, points }));
}

async function readRecord(file: string): Promise<Map<string, HistoryPoint>> {
  let run: { runId: string; startedAt: string; model?: string } | undefined;
  const acc = new Map<string, { passed: number; answered: number; cases: Set<string>; cost: number; latency: number; timed: number }>();
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.startsWith('{"type":"run"')) {
      try {
        const r = JSON.parse(line) as { runId?: unknown; startedAt?: unknown; model?: unknown };
        if (typeof r.runId === 'string') run = { runId: r.runId, startedAt: typeof r.startedAt === 'number' ? new Date(r.startedAt).toISOString() : String(r.startedAt), ...(typeof r.model === 'string' ? { model: r.model } : {}) };
      } catch {
        // a broken first line: the record is left out below
      }
      continue;
    }
    if (!line.startsWith('{"type":"case"')) continue;
    let r: Pick<CaseResult, 'caseId' | 'prompt' | 'status' | 'cost' | 'latencyMs' | 'source'>;
    try {
      r = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof r.prompt !== 'string') continue;
    const a = acc.get(r.prompt) ?? { passed: 0, answered: 0, cases: new Set<string>(), cost: 0, latency: 0, timed: 0 };
    a.cases.add(r.caseId);
    if (r.status === 'passed' || r.status === 'failed') {
      a.answered++;
      if (r.status === 'passed') a.passed++;
      if (typeof r.latencyMs === 'number') {
        a.latency += r.latencyMs;
        a.timed++;
      }
    }
    if (r.source === 'live' && typeof r.cost === 'number') a.cost += r.cost;
    acc.set(r.prompt, a);
  }
  const out = new Map<string, HistoryPoint>();
  if (!run) return out;
  for (const [prompt, a] of acc) {
    out.set(prompt, {
      runId: run.runId,
      startedAt: run.startedAt,
      ...(a.answered ? { passRate: a.passed / a.answered } : {}),
      passed: a.passed,
      answered: a.answered,
      cases: a.cases.size,
      costUsd: a.cost,
      ...(a.timed ? { latencyMs: a.latency / a.timed } : {}),
      ...(run.model ? { model: run.model } : {}),
    });
  }
  return out;
}
