import type { ResolvedConfig } from '../config';
import type { Project } from '../project';
import type { Samples } from '../schema';
import { Baselines, blocksGate, caseOutcomes, countVerdicts, verdictsForRun } from '../evaluate';
import { attackReport } from '../redteam/report';
import { suiteMetrics } from '../derived';
import type { CaseResult, RunSummary } from '../types/results';
import type { CaseSpec } from '../types/cases';
import type { CaseOutcome, RunMode } from '../types/report';
import type { RunReport } from '../types/report';

export interface JudgeRunInput {
  project: Pick<Project, 'suites' | 'prompts'>;
  config: Pick<ResolvedConfig, 'verdicts' | 'sampling'>;
  cases: readonly CaseSpec[];
  results: ReadonlyMap<string, CaseResult[]>;
  baselines: Baselines;
  samples?: Samples;
  summary: RunSummary;
  mode: RunMode;
  stopped?: RunReport['stopped'];
  judge?: RunReport['judge'];
}

/**
 * The same results judged again against baselines that changed since (an approval): the outcomes
 * an editor shows must not keep the old verdicts until the next run.
 */
export function rejudgeOutcomes(outcomes: readonly CaseOutcome[], baselines: Baselines, config: Pick<ResolvedConfig, 'verdicts' | 'sampling'>): CaseOutcome[] {
  const cases = outcomes.map((o) => o.spec);
  const results = new Map(outcomes.map((o) => [o.spec.id, o.results]));
  const verdicts = verdictsForRun(cases, results, baselines, { policy: config.verdicts, sampling: config.sampling, completeSuites: new Set() });
  return caseOutcomes(cases, results, verdicts, baselines);
}

/**
 * Verdicts, outcomes, attacks and the gate of a run's results against the baselines: at the end
 * of a run, and again after an approval changed the baselines. A suite ran whole when every case
 * it has in the project ran; only then are its approved cases that are gone `removed`.
 */
export function judgeRun(input: JudgeRunInput): RunReport {
  const { project, config, cases, results, baselines } = input;
  const ran = new Set(cases.map((k) => k.id));
  const promptFiles = new Set(cases.map((k) => k.prompt.file));
  const completeSuites = new Set(project.suites.filter((s) => s.cases.length && s.cases.every((k) => ran.has(k.id))).map((s) => Baselines.key(s.prompt.relFile, s.name)));
  const verdicts = verdictsForRun(cases, results, baselines, { override: input.samples, policy: config.verdicts, sampling: config.sampling, completeSuites });
  const outcomes = caseOutcomes(cases, results, verdicts, baselines);
  const removed = verdicts.filter((v) => v.kind === 'removed');
  const suiteOfRemoved = new Map<string, string>();
  for (const s of project.suites) {
    const key = Baselines.key(s.prompt.relFile, s.name);
    if (completeSuites.has(key)) for (const id of Object.keys(baselines.forSuite(s.prompt.relFile, s.name)?.cases ?? {})) suiteOfRemoved.set(id, key);
  }
  const suites = new Map<string, RunReport['suites'][number]>();
  for (const o of outcomes) {
    const key = Baselines.key(o.spec.prompt.relFile, o.spec.suite);
    const s = suites.get(key) ?? { prompt: o.spec.prompt.relFile, suite: o.spec.suite, outcomes: [], removed: removed.filter((v) => suiteOfRemoved.get(v.caseId) === key) };
    s.outcomes.push(o);
    suites.set(key, s);
  }
  // Derived metrics (promptfoo's derivedMetrics) per suite, over what ran of it.
  for (const s of suites.values()) {
    const spec = project.suites.find((x) => x.name === s.suite && x.prompt.relFile === s.prompt);
    if (spec?.derivedMetrics?.length) s.metrics = suiteMetrics(s.outcomes, spec.derivedMetrics);
  }
  return {
    summary: input.summary,
    judge: input.judge,
    prompts: project.prompts.filter((p) => promptFiles.has(p.file)),
    outcomes,
    suites: [...suites.values()],
    attacks: attackReport(outcomes, config.verdicts.alpha),
    removed,
    counts: countVerdicts(verdicts),
    gate: input.stopped ? 'stopped' : verdicts.some(blocksGate) ? 'failed' : 'passed',
    stopped: input.stopped,
    mode: input.mode,
  };
}
