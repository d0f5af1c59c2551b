import * as path from 'node:path';
import { createReadStream, promises as fs } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ResolvedConfig } from '../config';
import type { Project } from '../project';
import { Baselines, suitesWith } from '../evaluate';
import { withModel } from '../variants';
import { formatDiagnostic } from '../diagnostics';
import { judgeRun } from './report';
import type { CaseResult, RunSummary } from '../types/results';
import type { RunMode, RunReport, ShardInfo } from '../types/report';

/** A run as its record holds it: the first line's settings, every sample, the summary. */
export interface RecordedRun {
  runId: string;
  file: string;
  mode: RunMode;
  model?: string;
  results: Map<string, CaseResult[]>;
  summary?: RunSummary;
  /** A shard's run (`--shard i/n`): its slice of the whole. */
  shard?: ShardInfo;
  /** A merged run: the runs it was merged from. */
  merged?: string[];
  /** Merged from records of which these were cut short (no summary line). */
  incomplete?: string[];
}

/**
 * The record of a run: `id` may be a run id, a unique prefix of one (`2026-12-02T18`), a record's
 * path, or `latest`. An unknown or ambiguous id says which runs there are.
 */
export async function findRun(runsDir: string, id = 'latest'): Promise<string> {
  if (id.endsWith('.jsonl') && (await fs.stat(id).catch(() => undefined))?.isFile()) return id;
  const names = (await fs.readdir(runsDir).catch(() => [] as string[])).filter((f) => f.endsWith('.jsonl')).sort();
  if (!names.length) throw new Error(`no recorded runs in ${runsDir}: run \`promptgate test\` first`);
  if (id === 'latest') return path.join(runsDir, names[names.length - 1]);
  const hits = names.filter((f) => f.startsWith(id));
  if (hits.length === 1) return path.join(runsDir, hits[0]);
  const listed = names.slice(-5).map((f) => f.replace(/\.jsonl$/, '')).join(', ');
  throw new Error(hits.length ? `'${id}' matches ${hits.length} runs; give more of the id (newest: ${listed})` : `no recorded run '${id}' in ${runsDir} (newest: ${listed})`);
}

/** Reads a run record line by line; lines that do not parse (a run cut short) are skipped. */
export async function readRun(file: string): Promise<RecordedRun> {
  const run: RecordedRun = { runId: path.basename(file).replace(/\.jsonl$/, ''), file, mode: 'live', results: new Map() };
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    let x: Record<string, unknown>;
    try {
      x = JSON.parse(line);
    } catch {
      continue;
    }
    if (x.type === 'run') {
      if (typeof x.runId === 'string') run.runId = x.runId;
      if (x.mode === 'replay' || x.mode === 'record') run.mode = x.mode;
      if (typeof x.model === 'string') run.model = x.model;
      const sh = x.shard as Partial<ShardInfo> | undefined;
      if (sh && typeof sh.index === 'number' && typeof sh.count === 'number' && typeof sh.cases === 'number' && typeof sh.plan === 'string') run.shard = { index: sh.index, count: sh.count, cases: sh.cases, plan: sh.plan };
      if (Array.isArray(x.merged)) run.merged = x.merged.map(String);
    } else if (x.type === 'case' && typeof x.caseId === 'string') {
      delete x.type;
      const r = x as unknown as CaseResult;
      run.results.set(r.caseId, [...(run.results.get(r.caseId) ?? []), r]);
    } else if (x.type === 'summary') {
      delete x.type;
      run.summary = x as unknown as RunSummary;
    }
  }
  return run;
}

/**
 * A recorded run judged again against today's baselines, without calling any model: its cases
 * that still exist in the project, with their recorded samples. Cases gone from the files are
 * counted in `missing`.
 */
export async function recordedReport(project: Pick<Project, 'suites' | 'prompts' | 'cases'>, config: Pick<ResolvedConfig, 'verdicts' | 'sampling' | 'baselinesDir'>, run: RecordedRun): Promise<{ report: RunReport; missing: number }> {
  let cases = project.cases.filter((k) => run.results.has(k.id));
  if (run.model) cases = withModel(cases, run.model);
  const { baselines, diagnostics } = await Baselines.load(config.baselinesDir, suitesWith(project.suites, project.cases.filter((k) => run.results.has(k.id))));
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`invalid baseline files:\n${errors.map((d) => formatDiagnostic(d)).join('\n')}`);
  const summary: RunSummary = run.summary ?? { runId: run.runId, startedAt: '', durationMs: 0, total: 0, passed: 0, failed: 0, errored: 0, skipped: 0, hits: 0, tokens: { promptTokens: 0, completionTokens: 0, totalTokens: 0 }, cost: 0, metrics: {} };
  const cut = !run.summary ? 'the record has no summary: the run was cut short' : run.incomplete?.length ? `${run.incomplete.join(', ')} ${run.incomplete.length === 1 ? 'was' : 'were'} cut short` : undefined;
  const report = judgeRun({ project, config, cases, results: run.results, baselines, summary, mode: run.mode, ...(cut ? { stopped: { kind: 'interrupted', reason: cut } } : {}) });
  return { report, missing: run.results.size - cases.length };
}
