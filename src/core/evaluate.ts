import type { Diagnostic } from './diagnostics';
import { baselineOutcomes, baselinePath, readBaseline, resultOutcomes, type BaselineCase, type BaselineFile } from './baseline';
import { samplePlan } from './sampling';
import type { Samples } from './schema';
import { computeVerdicts, removedVerdict } from './verdicts';
import { outputDiff, trajectoryLines, withTrajectory } from './diff';
import type { CaseResult, SamplePlan, Tally } from './types/results';
import type { CaseVerdict, SamplingPolicy, VerdictKind, VerdictPolicy } from './types/verdicts';
import { caseDefinitions, type CaseSpec, type SuiteSpec } from './types/cases';
import type { CaseOutcome, ModelDrift } from './types/report';

/** The approved baselines of a run's suites, keyed by `prompt::suite`. */
export class Baselines {
  constructor(private readonly files: Map<string, { file: string; baseline: BaselineFile }>) {}

  static key(promptRel: string, suite: string): string {
    return `${promptRel}::${suite}`;
  }

  /** Reads the baseline file of every suite; a broken one is a located diagnostic. */
  static async load(baselinesDir: string, suites: readonly SuiteSpec[]): Promise<{ baselines: Baselines; diagnostics: Diagnostic[] }> {
    const files = new Map<string, { file: string; baseline: BaselineFile }>();
    const diagnostics: Diagnostic[] = [];
    for (const s of suites) {
      const key = Baselines.key(s.prompt.relFile, s.name);
      if (files.has(key)) continue;
      const file = baselinePath(baselinesDir, s.prompt.relFile, s.name);
      const r = await readBaseline(file);
      diagnostics.push(...r.diagnostics);
      if (r.baseline) files.set(key, { file, baseline: r.baseline });
    }
    return { baselines: new Baselines(files), diagnostics };
  }

  forSuite(promptRel: string, suite: string): BaselineFile | undefined {
    return this.files.get(Baselines.key(promptRel, suite))?.baseline;
  }

  forCase(spec: CaseSpec): { entry: BaselineCase; versionId: string; model: string } | undefined {
    const file = this.forSuite(spec.prompt.relFile, spec.suite);
    const entry = file?.cases[spec.id];
    return entry ? { entry, versionId: entry.promptVersionId, model: file!.model } : undefined;
  }

  tally(spec: CaseSpec): Tally | undefined {
    const b = this.forCase(spec);
    return b ? { passed: b.entry.passed, total: b.entry.total } : undefined;
  }
}

/** The suites that hold at least one of `cases` (by identity, in linear time). */
export function suitesWith(suites: readonly SuiteSpec[], cases: readonly CaseSpec[]): SuiteSpec[] {
  const wanted = new Set(cases);
  return suites.filter((s) => s.cases.some((k) => wanted.has(k)));
}

/**
 * Samples for a case: the run's override, else the case's or suite's, else `auto` when a judge
 * grades it, else `confirm` (one sample, auto sampling when it fails where the baseline passes).
 */
export function effectiveSamples(spec: CaseSpec, override: Samples | undefined): Samples | 'confirm' {
  return override ?? spec.samples ?? (caseDefinitions(spec).some((d) => d.kind === 'model') ? 'auto' : 'confirm');
}

/** A case's sample plan. `family` is how many cases of the run have a baseline; `asBaseline` plans a run that is to become the baseline. */
export function planCase(spec: CaseSpec, override: Samples | undefined, baselines: Baselines, policy: VerdictPolicy, sampling: SamplingPolicy, context: { family: number; asBaseline?: boolean }): SamplePlan {
  const samples = effectiveSamples(spec, override);
  // A baseline run samples to `baselineSettled`, unless the case's own file fixes its sample count.
  if (context.asBaseline) return samplePlan(typeof spec.samples === 'number' ? spec.samples : 'auto', undefined, policy, sampling);
  return samplePlan(samples, baselines.tally(spec), policy, sampling, { family: context.family, passRate: spec.passRate });
}

export interface VerdictOptions {
  override?: Samples;
  policy: VerdictPolicy;
  sampling: SamplingPolicy;
  /** Suites that ran whole (no case filter): their baseline cases missing from the project are `removed`. */
  completeSuites: ReadonlySet<string>;
}

/** Every case's verdict against its baseline, plus `removed` for approved cases that no longer exist. */
export function verdictsForRun(cases: readonly CaseSpec[], results: ReadonlyMap<string, CaseResult[]>, baselines: Baselines, options: VerdictOptions): CaseVerdict[] {
  const ran = cases.filter((c) => results.has(c.id));
  const verdicts = computeVerdicts(
    ran.map((spec) => {
      const b = baselines.forCase(spec);
      const rs = inOrder(results.get(spec.id)!);
      const samples = effectiveSamples(spec, options.override);
      return {
        caseId: spec.id,
        skipped: rs.every((r) => r.status === 'skipped'),
        passRate: spec.passRate,
        sequential: samples === 'auto' || (samples === 'confirm' && rs.length > 1),
        current: resultOutcomes(rs, !!b),
        currentVersionId: spec.prompt.versionId,
        baseline: b && { samples: baselineOutcomes(b.entry), versionId: b.versionId },
      };
    }),
    options.policy,
    options.sampling,
  );
  const present = new Set(cases.map((c) => c.id));
  const seenSuites = new Set<string>();
  for (const spec of cases) {
    const key = Baselines.key(spec.prompt.relFile, spec.suite);
    if (seenSuites.has(key) || !options.completeSuites.has(key)) continue;
    seenSuites.add(key);
    const file = baselines.forSuite(spec.prompt.relFile, spec.suite);
    for (const [id, entry] of Object.entries(file?.cases ?? {})) {
      if (!present.has(id)) verdicts.push(removedVerdict(id, { samples: baselineOutcomes(entry), versionId: entry.promptVersionId }, options.policy.confidence));
    }
  }
  return verdicts;
}

/**
 * Whether a verdict blocks the gate: a regression, an error, or a failing case that has no
 * approved baseline. A case approved while failing (`fail`) and a `flaky` one do not block.
 */
export function blocksGate(v: CaseVerdict): boolean {
  return v.kind === 'regressed' || v.kind === 'errored' || (v.kind === 'new' && !v.passing);
}

export function countVerdicts(verdicts: readonly CaseVerdict[]): Record<VerdictKind, number> {
  const counts: Record<VerdictKind, number> = { pass: 0, fail: 0, regressed: 0, improved: 0, flaky: 0, new: 0, removed: 0, errored: 0, skipped: 0 };
  for (const v of verdicts) counts[v.kind]++;
  return counts;
}

/** Below this agreement a verdict that rests on the judge is marked as shaky. */
export const LOW_JUDGE_AGREEMENT = 0.8;

/**
 * Pairs each case with its results and verdict and picks the outputs to compare: for a
 * regression a baseline sample that passed against a current sample that failed (the flip),
 * for an improvement the reverse, otherwise the first sample of each.
 */
export function caseOutcomes(cases: readonly CaseSpec[], results: ReadonlyMap<string, CaseResult[]>, verdicts: readonly CaseVerdict[], baselines: Baselines): CaseOutcome[] {
  const byId = new Map(verdicts.map((v) => [v.caseId, v]));
  return cases
    .filter((c) => results.has(c.id) && byId.has(c.id))
    .map((spec) => {
      const rs = inOrder(results.get(spec.id)!);
      const verdict = byId.get(spec.id)!;
      const b = baselines.forCase(spec);
      const outcome: CaseOutcome = { spec, results: rs, verdict, cached: rs.filter((r) => r.source === 'cache').length, ...judgeFigures(spec, rs, b?.entry) };
      const drift = b && modelDrift(b.entry.samples, rs);
      if (drift) outcome.drift = drift;
      // Run with another model (--model) than the baseline's: its answer is shown beside the baseline's.
      if (b && b.model !== spec.prompt.model) outcome.swap = { model: b.model, output: b.entry.samples[0].output, passed: b.entry.passed, total: b.entry.total };
      const counted = rs.filter((r) => r.status === 'passed' || r.status === 'failed');
      if (!b || !counted.length) return outcome;
      const want = verdict.kind === 'regressed' ? { before: true, after: false } : verdict.kind === 'improved' ? { before: false, after: true } : undefined;
      const before = (want && b.entry.samples.find((s) => s.pass === want.before)) ?? b.entry.samples[0];
      const after = (want && counted.find((r) => (r.status === 'passed') === want.after)) ?? counted[0];
      // A sample held without its answer (a large run's passing sample, see session/trim.ts) has
      // nothing to compare: no change is claimed (its answer is in the run record).
      if (after.output === undefined && after.steps === undefined) return outcome;
      // An agent's trajectory is compared first, then its answer.
      const agent = !!spec.agent || before.tools !== undefined;
      const was = agent ? withTrajectory(before.output, before.tools ?? []) : before.output;
      const now = agent ? withTrajectory(after.output ?? '', after.steps ? trajectoryLines(after.steps) : []) : (after.output ?? '');
      const diff = outputDiff(was, now, agent ? [] : spec.normalize);
      if (diff.kind !== 'same') outcome.change = { before: was, after: now, diff };
      return outcome;
    });
}

/**
 * Whether the model reported as answering changed since the baseline: a model name that none of
 * the baseline's samples reported, or, for the same model, only `system_fingerprint`s none of them
 * reported. Only samples
 * that reported one count; a change is drift even when the verdict did not move.
 */
export function modelDrift(before: readonly { model?: string; fingerprint?: string }[], after: readonly CaseResult[]): ModelDrift | undefined {
  const set = (xs: (string | undefined)[]) => [...new Set(xs.filter((x): x is string => !!x))].sort();
  // Any new model name is drift; a backend's fingerprints rotate, so only a complete turnover is.
  const compare = (kind: ModelDrift['kind'], was: string[], now: string[]): ModelDrift | undefined =>
    was.length && now.length && (kind === 'model' ? now.some((x) => !was.includes(x)) : now.every((x) => !was.includes(x))) ? { kind, before: was, after: now } : undefined;
  const answered = after.filter((r) => r.status === 'passed' || r.status === 'failed');
  return (
    compare('model', set(before.map((s) => s.model)), set(answered.map((r) => r.servedModel))) ??
    compare('fingerprint', set(before.map((s) => s.fingerprint)), set(answered.map((r) => r.fingerprint)))
  );
}

/** A case's samples in order: the list itself when it is (as a run holds them, mostly), else a sorted copy. */
function inOrder(rs: CaseResult[]): CaseResult[] {
  for (let i = 1; i < rs.length; i++) if (rs[i - 1].sample > rs[i].sample) return [...rs].sort((a, b) => a.sample - b.sample);
  return rs;
}

/** The judge scores of a case no judge grades: one empty list for all of them (a large run has many). */
const NO_JUDGE: CaseOutcome['judgeScores'] = Object.freeze([]) as unknown as CaseOutcome['judgeScores'];

function judgeFigures(spec: CaseSpec, results: readonly CaseResult[], baseline: BaselineCase | undefined): Pick<CaseOutcome, 'judgeScores' | 'judgeAgreement'> {
  if (!caseDefinitions(spec).some((d) => d.kind === 'model')) return { judgeScores: NO_JUDGE, judgeAgreement: undefined };
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
  const judgeScores: CaseOutcome['judgeScores'] = [];
  let judgeAgreement: number | undefined;
  spec.assertions.forEach((a, index) => {
    if (a.definition.kind !== 'model') return;
    const now = results.map((r) => r.assertions[index]).filter((x) => x && x.type === a.type && x.judge);
    for (const x of now) if (x.judge!.samples > 1) judgeAgreement = Math.min(judgeAgreement ?? 1, x.judge!.agreement);
    const before = baseline?.samples.map((s) => s.assertions[index]).filter((x) => x && x.type === a.type).map((x) => x.score) ?? [];
    const failed = now.length ? undefined : results.map((r) => r.assertions[index]).find((x) => x && x.type === a.type && x.errored)?.reason;
    judgeScores.push({ assertion: a.type, index, before: mean(before), after: mean(now.map((x) => x.score)), ...(failed ? { error: failed } : {}) });
  });
  return { judgeScores, judgeAgreement };
}
