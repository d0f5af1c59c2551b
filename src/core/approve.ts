import { baselineCaseFrom, baselinePath, readBaseline, writeBaseline, type BaselineFile } from './baseline';
import type { Diagnostic } from './diagnostics';
import { latestResults } from './runs';
import { baselineShortfall } from './sampling';
import type { CaseSpec } from './types/cases';
import type { SamplingPolicy } from './types/verdicts';

export interface ApprovedFile {
  file: string;
  prompt: string;
  suite: string;
  baseline: BaselineFile;
  approved: string[];
  /** Approved cases dropped because they are no longer in the suite. */
  dropped: string[];
}

export interface Approval {
  files: ApprovedFile[];
  /** Selected cases that could not be approved, with the reason. */
  skipped: { caseId: string; reason: string }[];
  /**
   * Cases whose latest run has too few samples to judge later runs against: not approved until
   * topped up (`promptgate approve --top-up`, or "Top up and approve" in the editor).
   */
  weak: { spec: CaseSpec; reason: string }[];
  diagnostics: Diagnostic[];
}

/**
 * Turns the latest recorded run of each selected case into its approved baseline. A case whose
 * prompt changed since that run, or whose samples all errored, is not approved; nor is one with
 * too few samples for a baseline (`baselineShortfall`), unless its own file fixes a sample count
 * and the run has it. With `wholeSuites`, approved cases that no longer exist are dropped from
 * their files.
 */
export async function planApproval(options: { cases: readonly CaseSpec[]; wholeSuites: boolean; baselinesDir: string; runsDir: string; sampling: SamplingPolicy }): Promise<Approval> {
  const latest = await latestResults(options.runsDir, new Set(options.cases.map((c) => c.id)));
  const skipped: Approval['skipped'] = [];
  const weak: Approval['weak'] = [];
  const diagnostics: Diagnostic[] = [];
  const groups = new Map<string, { prompt: string; suite: string; model: string; versionId: string; cases: CaseSpec[]; all: string[] }>();
  for (const spec of options.cases) {
    const key = `${spec.prompt.relFile}\u0000${spec.suite}`;
    const g = groups.get(key) ?? { prompt: spec.prompt.relFile, suite: spec.suite, model: spec.prompt.model, versionId: spec.prompt.versionId, cases: [], all: [] };
    g.cases.push(spec);
    groups.set(key, g);
  }
  const files: ApprovedFile[] = [];
  for (const g of groups.values()) {
    const file = baselinePath(options.baselinesDir, g.prompt, g.suite);
    const existing = await readBaseline(file);
    if (existing.diagnostics.length) {
      diagnostics.push(...existing.diagnostics.map((d) => ({ ...d, message: `${d.message} (fix the file or delete it, then approve again)` })));
      continue;
    }
    const baseline: BaselineFile = existing.baseline
      ? { ...existing.baseline, cases: { ...existing.baseline.cases } }
      : { format: 1, prompt: g.prompt, suite: g.suite, promptVersionId: g.versionId, model: g.model, cases: {} };
    const approved: string[] = [];
    for (const spec of g.cases) {
      const results = latest.get(spec.id);
      if (!results) {
        skipped.push({ caseId: spec.id, reason: 'no recorded run: run promptgate test first' });
        continue;
      }
      if (results[0].promptVersionId !== spec.prompt.versionId) {
        skipped.push({ caseId: spec.id, reason: `the prompt changed since its last run (ran ${results[0].promptVersionId}, now ${spec.prompt.versionId}): run promptgate test first` });
        continue;
      }
      const entry = baselineCaseFrom(results);
      if (!entry) {
        skipped.push({ caseId: spec.id, reason: 'every sample of its last run errored or was cancelled' });
        continue;
      }
      const short = typeof spec.samples === 'number' ? (entry.total >= spec.samples ? undefined : `${entry.total} of the ${spec.samples} samples its file asks for`) : baselineShortfall(entry, options.sampling);
      if (short) {
        weak.push({ spec, reason: short });
        continue;
      }
      baseline.cases[spec.id] = entry;
      approved.push(spec.id);
    }
    const dropped: string[] = [];
    if (options.wholeSuites) {
      const present = new Set(g.cases.map((c) => c.id));
      for (const id of Object.keys(baseline.cases)) {
        if (!present.has(id)) {
          delete baseline.cases[id];
          dropped.push(id);
        }
      }
    }
    if (!approved.length && !dropped.length) continue;
    baseline.promptVersionId = g.versionId;
    baseline.model = g.model;
    files.push({ file, prompt: g.prompt, suite: g.suite, baseline, approved, dropped });
  }
  return { files, skipped, weak, diagnostics };
}

/** Writes every approved file atomically. */
export async function writeApproval(approval: Approval): Promise<void> {
  for (const f of approval.files) await writeBaseline(f.file, f.baseline);
}
