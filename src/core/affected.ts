import { hashOf } from './canonical';
import type { CaseSpec } from './types/cases';
import type { PreparedAssertion } from './types/assertions';

/**
 * Everything that decides a case's result: the request the model gets (messages after rendering,
 * model, parameters, tools), the provider, the assertions, samples, pass rate and normalisation.
 * Names, descriptions, tags and positions are left out: moving or renaming around a case changes
 * nothing it would answer.
 */
const assertionPrint = (a: PreparedAssertion) => ({ type: a.type, value: a.value, threshold: a.threshold, weight: a.weight, metric: a.metric, transform: a.transformSource, judgeModel: a.judgeModel, judgeSamples: a.judgeSamples });

export function caseFingerprint(c: CaseSpec): string {
  return hashOf({
    provider: c.prompt.provider,
    request: c.request,
    assertions: c.assertions.map(assertionPrint),
    // An agent case changes with its mocks, its step limit and its turns, as much as with its request.
    agent: c.agent && { mocks: c.agent.mocks, maxSteps: c.agent.maxSteps, turns: c.agent.turns.map((t) => ({ message: t.message, assertions: t.assertions.map(assertionPrint) })), opening: c.agent.opening?.map(assertionPrint) },
    threshold: c.threshold,
    samples: c.samples,
    passRate: c.passRate,
    normalize: c.normalize,
  });
}

/**
 * The cases a change to `files` affects: those written in one of the files or whose prompt is one
 * of them, and that differ from what last ran (`ran`: case id → fingerprint when it last ran) or
 * never ran. A prompt edit changes every request of its suites; a suite edit only the cases edited.
 */
export function affectedCases(cases: readonly CaseSpec[], files: ReadonlySet<string>, ran: ReadonlyMap<string, string>): CaseSpec[] {
  return cases.filter((c) => (files.has(c.file) || files.has(c.prompt.file)) && ran.get(c.id) !== caseFingerprint(c));
}
