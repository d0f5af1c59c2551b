import type { CaseResult } from '../types/results';

/**
 * Samples a run holds whole in memory; past them a passing sample is held trimmed. Ten thousand
 * whole samples are some tens of MB; the run record keeps every sample whole whatever the size.
 */
export const FULL_RESULTS = 10_000;

/** At most this many distinct assertion lists and served names are shared per run. */
const SHARED = 1000;

/**
 * A passing sample as a large run holds it: status, scores, source, tokens, cost and latency (what
 * verdicts, outcomes and summaries read), without the answer and the reasons, which are in the
 * run record. Alike assertion lists are one array and served model names one string each, as most
 * passing samples of a suite are alike.
 */
export class ResultTrimmer {
  private readonly checks = new Map<string, CaseResult['assertions']>();
  private readonly names = new Map<string, string>();

  /** `keepAnswer`: the case has a baseline, so its answer (and an agent's steps) is compared with the baseline's. */
  trim(r: CaseResult, keepAnswer: boolean): CaseResult {
    const kept: CaseResult = {
      caseId: r.caseId,
      name: r.name,
      suite: r.suite,
      prompt: r.prompt,
      promptVersionId: r.promptVersionId,
      file: r.file,
      line: r.line,
      sample: r.sample,
      status: r.status,
      score: r.score,
      assertions: this.checksOf(r.assertions),
    };
    if (keepAnswer) {
      if (r.output !== undefined) kept.output = r.output;
      if (r.toolCalls !== undefined) kept.toolCalls = r.toolCalls;
      if (r.steps !== undefined) kept.steps = r.steps;
    }
    if (r.source !== undefined) kept.source = r.source;
    if (r.servedModel !== undefined) kept.servedModel = this.once(r.servedModel);
    if (r.fingerprint !== undefined) kept.fingerprint = this.once(r.fingerprint);
    if (r.latencyMs !== undefined) kept.latencyMs = r.latencyMs;
    if (r.usage !== undefined) kept.usage = r.usage;
    if (r.cost !== undefined) kept.cost = r.cost;
    return kept;
  }

  private once(s: string): string {
    const known = this.names.get(s);
    if (known !== undefined) return known;
    if (this.names.size < SHARED) this.names.set(s, s);
    return s;
  }

  private checksOf(checks: CaseResult['assertions']): CaseResult['assertions'] {
    const list = checks.map(({ type, pass, score, weight, metric, judge, errored }) => ({ type, pass, score, weight, reason: '', ...(metric !== undefined ? { metric } : {}), ...(judge ? { judge } : {}), ...(errored ? { errored } : {}) }));
    // A judge's scores differ sample by sample: not worth a key.
    if (list.some((a) => a.judge)) return list;
    const key = JSON.stringify(list);
    const known = this.checks.get(key);
    if (known) return known;
    if (this.checks.size < SHARED) this.checks.set(key, list);
    return list;
  }
}
