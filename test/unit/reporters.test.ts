import { strict as assert } from 'node:assert';
import type { CaseResult, RunSummary } from '../../src/core';
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

const summary: RunSummary = { runId: 'r', startedAt: '', durationMs: 1200, total: 2, passed: 1, failed: 1, errored: 0, skipped: 0, hits: 0, tokens: { promptTokens: 1, completionTokens: 1, totalTokens: 2 }, cost: 0.5, metrics: {} };

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
    r.finish({ summary, prompts: [], results: [result({}), failed], mode: 'live', display: (f) => f });
    assert.ok(t.err.at(-1)!.startsWith('\r\x1b[2K'));
    assert.match(t.out.join(''), /FAIL.*p\.prompt\.yml › s › b {2}.*p\.prompt\.yml:10/);
  });

  it('writes no progress when stderr is not a terminal, and no color', () => {
    const t = io(false);
    const r = new TextReporter(t.value, true);
    r.onEvent({ type: 'run-started', runId: 'r', startedAt: '', total: 1, cases: 1 });
    r.onEvent({ type: 'case-finished', result: result({}), spec: undefined as never });
    r.finish({ summary: { ...summary, total: 1, failed: 0 }, prompts: [], results: [result({})], mode: 'live', display: (f) => f });
    assert.equal(t.err.join(''), '');
    assert.ok(!t.out.join('').includes('\x1b['));
  });

  it('escapes GitHub workflow command data and properties', () => {
    const report: RunReport = {
      summary,
      prompts: [],
      mode: 'live',
      display: (f) => `dir,1/${f}`,
      results: [result({ status: 'errored', name: 'x: 100%', error: { kind: 'server', message: 'line one\nline two 50%' } })],
    };
    const text = githubAnnotations(report);
    assert.match(text, /^::error file=dir%2C1\/p\.prompt\.yml,line=10,title=PromptGate errored%3A p\.prompt\.yml › s › x%3A 100%25::server: line one%0Aline two 50%25$/m);
  });
});
