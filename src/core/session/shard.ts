import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { hashOf } from '../canonical';
import { SummaryBuilder } from '../runner';
import { readRun, type RecordedRun } from './recorded';
import type { CaseResult } from '../types/results';
import type { CaseSpec } from '../types/cases';
import type { Shard } from '../types/report';

export type { Shard, ShardInfo } from '../types/report';

/** Reads `i/n`; a message for anything else. */
export function parseShard(text: string): Shard | string {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) return `--shard takes i/n (for example 2/4), not '${text}'`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > 1000) return `--shard ${text}: n must be 1 to 1000`;
  if (index < 1 || index > count) return `--shard ${text}: i must be 1 to ${count}`;
  return { index, count };
}

/**
 * Assigns every case to one of `count` shards, balanced by weight (longest first, each to the
 * lightest shard; ties by case id), so the same cases and weights always give the same slices.
 */
export function assignShards(cases: readonly CaseSpec[], count: number, weights: ReadonlyMap<string, number>): { slices: CaseSpec[][]; plan: string } {
  const w = (c: CaseSpec) => weights.get(c.id) ?? 1;
  const order = [...cases].sort((a, b) => w(b) - w(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const load = new Array<number>(count).fill(0);
  const shardOf = new Map<string, number>();
  for (const c of order) {
    let best = 0;
    for (let i = 1; i < count; i++) if (load[i] < load[best]) best = i;
    load[best] += w(c);
    shardOf.set(c.id, best);
  }
  const slices = Array.from({ length: count }, () => [] as CaseSpec[]);
  for (const c of cases) slices[shardOf.get(c.id)!].push(c);
  return { slices, plan: hashOf(slices.map((s) => s.map((c) => c.id).sort())).slice(0, 16) };
}

/**
 * Each case's expected cost in time, from the newest full (not sharded) recorded run that has it:
 * samples × mean latency. Shard records are left out, so shards run one after another on one
 * machine see the same weights as shards run side by side. A case never recorded weighs the median.
 */
export async function caseWeights(runsDir: string, cases: readonly CaseSpec[]): Promise<Map<string, number>> {
  const wanted = new Set(cases.map((c) => c.id));
  const weights = new Map<string, number>();
  const files = (await fs.readdir(runsDir).catch(() => [] as string[])).filter((f) => f.endsWith('.jsonl')).sort().reverse();
  for (const f of files) {
    if (weights.size === wanted.size) break;
    const run = await readRun(path.join(runsDir, f));
    if (run.shard) continue;
    for (const [id, rs] of run.results) {
      if (!wanted.has(id) || weights.has(id)) continue;
      const timed = rs.filter((r) => r.latencyMs !== undefined);
      const latency = timed.length ? timed.reduce((s, r) => s + r.latencyMs!, 0) / timed.length : 1;
      weights.set(id, rs.length * Math.max(1, latency));
    }
  }
  if (weights.size && weights.size < wanted.size) {
    const sorted = [...weights.values()].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    for (const id of wanted) if (!weights.has(id)) weights.set(id, median);
  }
  return weights;
}

/**
 * The shards' records as one run: every sample of every case, the summary recomputed from them (the
 * wall time is the slowest shard's). Refused when the shards do not fit together: a shard missing or
 * given twice, shards planned from other cases, another model, or a case recorded by two of them.
 */
export function mergeRuns(runs: readonly RecordedRun[], runId: string): RecordedRun {
  if (!runs.length) throw new Error('no run records to merge');
  const name = (r: RecordedRun) => path.basename(r.file);
  const sharded = runs.filter((r) => r.shard);
  if (sharded.length) {
    if (sharded.length !== runs.length) throw new Error(`${runs.filter((r) => !r.shard).map(name).join(', ')} ${runs.length - sharded.length === 1 ? 'is not a shard' : 'are not shards'}; merge the shards of one run`);
    const first = sharded[0].shard!;
    const other = sharded.find((r) => r.shard!.count !== first.count || r.shard!.plan !== first.plan || r.shard!.cases !== first.cases);
    if (other) throw new Error(`${name(other)} was planned differently from ${name(sharded[0])} (${other.shard!.cases} cases in ${other.shard!.count} shards, plan ${other.shard!.plan}; against ${first.cases} in ${first.count}, plan ${first.plan}): run every shard from the same files and records`);
    const seen = new Map<number, string>();
    for (const r of sharded) {
      const dup = seen.get(r.shard!.index);
      if (dup) throw new Error(`shard ${r.shard!.index}/${first.count} is given twice: ${dup} and ${name(r)}`);
      seen.set(r.shard!.index, name(r));
    }
    const missing = Array.from({ length: first.count }, (_, i) => i + 1).filter((i) => !seen.has(i));
    if (missing.length) throw new Error(`shard${missing.length === 1 ? '' : 's'} ${missing.map((i) => `${i}/${first.count}`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing`);
  }
  const models = new Set(runs.map((r) => r.model ?? ''));
  if (models.size > 1) throw new Error(`the runs used different models (${[...models].map((m) => m || 'the files’ own').join(', ')})`);
  const results = new Map<string, CaseResult[]>();
  const from = new Map<string, string>();
  for (const r of runs) {
    for (const [id, rs] of r.results) {
      if (from.has(id)) throw new Error(`case ${id} is in both ${from.get(id)} and ${name(r)}`);
      from.set(id, name(r));
      results.set(id, rs);
    }
  }
  const startedAt = runs.map((r) => r.summary?.startedAt ?? '').filter(Boolean).sort()[0] ?? new Date(0).toISOString();
  const summary = new SummaryBuilder(runId, startedAt);
  for (const rs of results.values()) for (const x of rs) summary.add(x);
  const modes = new Set(runs.map((r) => r.mode));
  return {
    runId,
    file: '',
    mode: modes.size === 1 ? runs[0].mode : 'live',
    ...(runs[0].model ? { model: runs[0].model } : {}),
    results,
    summary: summary.build(Math.max(...runs.map((r) => r.summary?.durationMs ?? 0))),
    merged: runs.map((r) => r.runId),
    ...(runs.some((r) => !r.summary) ? { incomplete: runs.filter((r) => !r.summary).map(name) } : {}),
  };
}

/** Writes a merged run as a run record, so approve, diff, report and the history read it like any run. */
export async function writeMergedRecord(runsDir: string, run: RecordedRun): Promise<string> {
  const file = path.join(runsDir, `${run.runId}.jsonl`);
  const lines = [JSON.stringify({ type: 'run', runId: run.runId, startedAt: run.summary?.startedAt, total: run.summary?.total, mode: run.mode, ...(run.model ? { model: run.model } : {}), merged: run.merged })];
  for (const rs of run.results.values()) for (const r of rs) lines.push(`{"type":"case",${JSON.stringify(r).slice(1)}`);
  if (run.summary && !run.incomplete) lines.push(JSON.stringify({ type: 'summary', ...run.summary }));
  await fs.mkdir(runsDir, { recursive: true });
  await fs.writeFile(file, `${lines.join('\n')}\n`, { flag: 'wx' });
  return file;
}
