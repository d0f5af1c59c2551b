import { strict as assert } from 'node:assert';
import type { CaseOutcome, CaseResult, CaseSpec, CaseVerdict, RunSummary } from '../../src/core';
import type { CliIO } from '../../src/cli/io';
import { TextReporter } from '../../src/cli/reporters/text';
import { githubAnnotations } from '../../src/cli/reporters/github';
import type { RunReport } from '../../src/cli/reporters/types';

function io(isTTY: boolean) {
  const out: string[] = [];
  const err: string[] = [];
  let t = 0;
  const value: CliIO = { out: (s) => out.push(s), err: (s) => err.push(s), isTTY, cwd: '/', env: {}, now: () => (t += 100) };
  return { value, out, err };
}

const result = (over: Partial<CaseResult>): CaseResult => ({
  caseId: 'p.prompt.yml::s::a',
  name: 'a',
  suite: 's',
  prompt: 'p.prompt.yml',
  promptVersionId: 'abcdef123456',
  file: 'p.prompt.yml',
  line: 9,
  sample: 0,
  status: 'passed',
  score: 1,
  assertions: [],
  output: 'out',
  source: 'live',
  ...over,
});

function outcome(name: string, r: CaseResult, kind: CaseVerdict['kind']): CaseOutcome {
  const spec = { id: `p.prompt.yml::s::${name}`, name, suite: 's', relFile: 'p.prompt.yml', range: { start: { line: 9, character: 6 }, end: { line: 9, character: 6 } }, prompt: { relFile: 'p.prompt.yml', versionId: 'abcdef123456', version: '1.0.0' }, request: { model: 'm', messages: [] } } as unknown as CaseSpec;
  const passing = r.status === 'passed';
  const verdict: CaseVerdict = { caseId: spec.id, kind, passing, current: { passed: passing ? 1 : 0, total: 1, rate: passing ? 1 : 0, interval: { lower: 0, upper: 1 }, errored: r.status === 'errored' ? 1 : 0 } };
  return { spec, results: [r], verdict, judgeScores: [], cached: 0 };
}

const summary: RunSummary = { runId: 'r', startedAt: '', durationMs: 1200, total: 2, passed: 1, failed: 1, errored: 0, skipped: 0, hits: 0, tokens: { promptTokens: 1, completionTokens: 1, totalTokens: 2 }, cost: 0.5, metrics: {} };
const counts = { pass: 0, fail: 0, regressed: 0, improved: 0, flaky: 0, new: 2, removed: 0, errored: 0, skipped: 0 };

describe('reporters', () => {
  it('draws a progress line on a terminal and clears it before the summary', () => {
    const t = io(true);
    const r = new TextReporter(t.value, true);
    r.onEvent({ type: 'run-started', runId: 'r', startedAt: '', total: 2, cases: 2 });
    const failed = result({ name: 'b', status: 'failed', score: 0, assertions: [{ type: 'contains', pass: false, score: 0, reason: 'output does not contain "x"', weight: 1, expected: 'x' }] });
    r.onEvent({ type: 'case-finished', result: result({}), spec: undefined as never });
    r.onEvent({ type: 'case-finished', result: failed, spec: undefined as never });
    assert.match(t.err.join(''), /\r\x1b\[2K.*running 1\/2 \(50%\)/);
    assert.match(t.err.join(''), /running 2\/2 \(100%\).*1 failing/);
    r.finish({ summary, prompts: [], attacks: [], outcomes: [outcome('a', result({}), 'new'), outcome('b', failed, 'new')], removed: [], counts, gate: 'failed', suites: [], mode: 'live', display: (f) => f });
    assert.ok(t.err.at(-1)!.startsWith('\r\x1b[2K'));
    assert.match(t.out.join(''), /FAIL.*p\.prompt\.yml › s › b {2}.*p\.prompt\.yml:10/);
    assert.match(t.out.join(''), /verdicts: 2 new — .*gate failed/);
  });

  it('writes no progress when stderr is not a terminal, and no color', () => {
    const t = io(false);
    const r = new TextReporter(t.value, true);
    r.onEvent({ type: 'run-started', runId: 'r', startedAt: '', total: 1, cases: 1 });
    r.onEvent({ type: 'case-finished', result: result({}), spec: undefined as never });
    r.finish({ summary: { ...summary, total: 1, failed: 0 }, prompts: [], attacks: [], outcomes: [outcome('a', result({}), 'new')], removed: [], counts: { ...counts, new: 1 }, gate: 'passed', suites: [], mode: 'live', display: (f) => f });
    assert.equal(t.err.join(''), '');
    assert.ok(!t.out.join('').includes('\x1b['));
  });

  it('escapes GitHub workflow command data and properties', () => {
    const report: RunReport = {
      summary,
      prompts: [],
      attacks: [],
      removed: [],
      counts: { ...counts, new: 0, errored: 1 },
      gate: 'failed',
      suites: [],
      mode: 'live',
      display: (f) => `dir,1/${f}`,
      outcomes: [outcome('x: 100%', result({ status: 'errored', error: { kind: 'server', message: 'line one\nline two 50%' } }), 'errored')],
    };
    const text = githubAnnotations(report);
    assert.match(text, /^::error file=dir%2C1\/p\.prompt\.yml,line=10,title=PromptGate errored%3A p\.prompt\.yml › s › x%3A 100%25::errored: pass rate 0%25 \(0\/1\); 1 errored%0Aserver: line one%0Aline two 50%25$/m);
  });
});
