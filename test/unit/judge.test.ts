import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import {
  DEFAULT_JUDGE,
  Judge,
  OpenAIProvider,
  ProviderError,
  ResponseStore,
  aggregateAnswers,
  evaluateModelAssertion,
  loadProject,
  parseJudgeAnswer,
  prepareAssertion,
  priceTable,
  runCases,
  type AssertionContext,
  type CaseResult,
  type JudgeContext,
  type JudgeQuestion,
  type PreparedAssertion,
} from '../../src/core';
import type { AssertionData } from '../../src/core/schema';
import { startFakeOpenAI, type ChatBody, type FakeOpenAI } from '../support/fake-openai';
import { removeDir, tmpProject } from '../support/tmp';

const ctx: AssertionContext = { vars: {}, response: { output: '', toolCalls: [] }, latencyMs: 1, cached: false, tools: [], question: 'What is the capital of France?' };

function prep(a: Partial<AssertionData> & { type: string }): PreparedAssertion {
  const p = prepareAssertion({ weight: 1, ...a }, {}, 'strict', (_s, m) => assert.fail(m));
  return p!;
}

/** A judge that answers from a function of the question, and counts its calls. */
function fakeJudge(answer: (user: string) => unknown): JudgeContext & { calls: number } {
  const j = {
    calls: 0,
    grade: async (q: JudgeQuestion) => {
      j.calls++;
      return aggregateAnswers([parseJudgeAnswer(JSON.stringify(answer('messages' in q ? q.messages.map((m) => `${m.role}: ${m.content}`).join('\n') : q.user)))]);
    },
    embed: async (texts: string[]) => texts.map((t) => [t.includes('Paris') ? 1 : 0, t.includes('London') ? 1 : 0, 0.1]),
  };
  return j;
}

describe('judges and model-graded assertions', () => {
  it('parses judge answers strictly: malformed answers are errors, not passes', () => {
    assert.deepEqual(parseJudgeAnswer('{"reason":"ok","pass":true,"score":0.9}'), { reason: 'ok', pass: true, score: 0.9 });
    assert.deepEqual(parseJudgeAnswer('```json\n{"reason":"ok","pass":false,"score":0}\n```'), { reason: 'ok', pass: false, score: 0 });
    for (const bad of ['yes', '{"pass":"true","score":1,"reason":"x"}', '{"pass":true,"score":7,"reason":"x"}', '{"pass":true,"reason":"x"}', '{"pass":true,"score":1,"reason":"x","extra":1}']) {
      assert.throws(() => parseJudgeAnswer(bad), (e: unknown) => e instanceof ProviderError && e.kind === 'judge', bad);
    }
  });

  it('aggregates repeated judge answers: majority pass, mean score, agreement', () => {
    const a = aggregateAnswers([
      { pass: true, score: 0.9, reason: 'a' },
      { pass: false, score: 0.2, reason: 'b' },
      { pass: true, score: 0.7, reason: 'c' },
    ]);
    assert.equal(a.pass, true);
    assert.ok(Math.abs(a.score - 0.6) < 1e-9);
    assert.ok(Math.abs(a.agreement - 2 / 3) < 1e-9);
    assert.equal(a.reason, 'a');
    assert.equal(aggregateAnswers([{ pass: true, score: 1, reason: '' }, { pass: false, score: 0, reason: '' }]).pass, false, 'a tie does not pass');
  });

  const cases: { a: Partial<AssertionData> & { type: string }; judge: (user: string) => unknown; pass: string; fail: string }[] = [
    { a: { type: 'llm-rubric', value: 'mentions Paris' }, judge: (u) => ({ pass: u.includes('<output>\nParis'), score: u.includes('<output>\nParis') ? 1 : 0, reason: 'r' }), pass: 'Paris', fail: 'Lyon' },
    { a: { type: 'llm-rubric', value: 'mentions Paris', threshold: 0.8 }, judge: (u) => ({ pass: true, score: u.includes('Paris is') ? 0.9 : 0.5, reason: 'r' }), pass: 'Paris is', fail: 'Paris' },
    { a: { type: 'model-graded-closedqa', value: 'names the capital' }, judge: (u) => ({ pass: /<submission>\nParis/.test(u), score: 1, reason: 'r' }), pass: 'Paris', fail: 'Nice' },
    { a: { type: 'factuality', value: 'Paris is the capital of France' }, judge: (u) => ({ pass: !/<submission>\nLyon/.test(u), score: 1, reason: 'r' }), pass: 'Paris', fail: 'Lyon' },
    { a: { type: 'answer-relevance' }, judge: (u) => ({ pass: true, score: /<answer>\nParis/.test(u) ? 0.9 : 0.2, reason: 'r' }), pass: 'Paris', fail: 'Bananas' },
    { a: { type: 'similar', value: 'The capital is Paris', threshold: 0.9 }, judge: () => ({}), pass: 'Paris!', fail: 'London' },
  ];
  for (const c of cases) {
    it(`${c.a.type}${c.a.threshold ? ` (threshold ${c.a.threshold})` : ''} passes and fails through the judge`, async () => {
      const a = prep(c.a);
      assert.equal(a.definition.kind, 'model');
      const good = await evaluateModelAssertion(a, c.pass, ctx, fakeJudge(c.judge));
      assert.equal(good.pass, true, good.reason);
      const bad = await evaluateModelAssertion(a, c.fail, ctx, fakeJudge(c.judge));
      assert.equal(bad.pass, false, bad.reason);
    });
  }

  it("llm-rubric with its own judge prompt, and the context-* checks, grade what the case's variables hold", async () => {
    const vars = { country: 'France', query: 'Capital of France?', context: ['Paris is the capital of France.', 'Lyon is a city.'] };
    const withVars = { ...ctx, vars };
    const rubric = prep({ type: 'llm-rubric', value: { rubric: 'names {{ country }}', prompt: [{ role: 'system', content: 'Grade: {{ rubric }}' }, { role: 'user', content: '{{ country }}: {{ output }}' }] } });
    const judged = (u: string) => ({ pass: u === 'system: Grade: names France\nuser: France: Paris', score: 1, reason: 'r' });
    assert.equal((await evaluateModelAssertion(rubric, 'Paris', withVars, fakeJudge(judged))).pass, true);
    assert.equal((await evaluateModelAssertion(rubric, 'Lyon', withVars, fakeJudge(judged))).pass, false);
    // The judge's score against the threshold (default 0.7); what each check shows the judge.
    const seen: string[] = [];
    const scoring = fakeJudge((u) => (seen.push(u), { pass: true, score: u.includes('<answer>\nLyon') ? 0.3 : 0.8, reason: 'r' }));
    const faithful = prep({ type: 'context-faithfulness' });
    assert.equal((await evaluateModelAssertion(faithful, 'Paris', withVars, scoring)).pass, true);
    assert.equal((await evaluateModelAssertion(faithful, 'Lyon', withVars, scoring)).pass, false);
    assert.match(seen[0], /<question>\nCapital of France\?\n<\/question>\n\n<context>\nParis is the capital of France\.\n\nLyon is a city\.\n<\/context>\n\n<answer>\nParis/);
    assert.equal((await evaluateModelAssertion(prep({ type: 'context-recall', value: 'Paris', threshold: 0.9 }), 'x', withVars, scoring)).pass, false, 'below its threshold');
    assert.match(seen[2], /<expected>\nParis\n<\/expected>/);
    assert.equal((await evaluateModelAssertion(prep({ type: 'context-relevance' }), 'x', withVars, scoring)).pass, true);
    const without = await evaluateModelAssertion(prep({ type: 'context-relevance' }), 'x', ctx, scoring);
    assert.equal(without.pass, false);
    assert.equal(scoring.calls, 4, 'no judge is asked without a context');
  });

  it('a judge that answers nonsense makes an errored result', async () => {
    const j = fakeJudge(() => ({ verdict: 'great' }));
    const r = await evaluateModelAssertion(prep({ type: 'llm-rubric', value: 'x' }), 'out', ctx, j);
    assert.equal(r.pass, false);
    assert.equal(r.errored, true);
    assert.match(r.reason, /judge failed: the judge's answer is malformed/);
  });

  it('rejects provider and judge options on assertions that are not judged', () => {
    const errors: string[] = [];
    prepareAssertion({ type: 'contains', value: 'x', weight: 1, judge: { samples: 3 } }, {}, 'strict', (_s, m) => errors.push(m));
    assert.match(errors[0], /not model-graded/);
  });
});

describe('judging in a run (real SDK, local server)', () => {
  let server: FakeOpenAI;
  let dir: string;
  const isJudge = (b: ChatBody) => b.messages[0].content.startsWith('You grade the output');
  beforeEach(async () => {
    server = await startFakeOpenAI({
      respond: (b) => {
        if (!isJudge(b)) return { content: b.messages.at(-1)!.content.includes('France') ? 'Paris' : 'I do not know' };
        const user = b.messages[1].content;
        if (user.includes('MALFORMED')) return { content: 'sure, looks fine' };
        const ok = /<output>\nParis/.test(user);
        return { content: JSON.stringify({ reason: ok ? 'names Paris' : 'does not name Paris', pass: ok, score: ok ? 1 : 0 }) };
      },
    });
    dir = await tmpProject({});
  });
  afterEach(async () => {
    await server.close();
    await removeDir(dir);
  });

  async function run(rubric: string, extra = '') {
    const root = await tmpProject({
      'geo.prompt.yml': `model: gpt-4o-mini\nmessages:\n  - role: user\n    content: "Capital of {{ country }}?"\nsuites:\n  s:\n    cases:\n      - name: france\n        vars: { country: France }\n        assert:\n          - type: icontains\n            value: "${extra || 'a'}"\n          - type: llm-rubric\n            value: "${rubric}"\n            judge: { samples: 3 }\n`,
    });
    const project = await loadProject({ root, paths: [root] });
    assert.deepEqual(project.diagnostics, []);
    const provider = new OpenAIProvider({ apiKey: 'k', baseURL: server.baseURL, timeoutMs: 2000, retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 }, stream: false });
    const judge = new Judge(provider, DEFAULT_JUDGE, new ResponseStore(path.join(dir, 'judge')));
    const results: CaseResult[] = [];
    for await (const e of runCases(project.cases, { runId: 'r', concurrency: 2 }, { providerFor: () => provider, cache: new ResponseStore(path.join(dir, 'cache')), prices: priceTable(), now: () => 0, judge: (a, signal) => judge.context(signal, { samples: a.judgeSamples, model: a.judgeModel }) })) {
      if (e.type === 'case-finished') results.push(e.result);
    }
    await removeDir(root);
    return results;
  }

  it('asks the judge k times, caches its answers apart from outputs, and re-judges when the rubric changes', async () => {
    const first = await run('names the capital of France');
    assert.equal(first[0].status, 'passed', JSON.stringify(first[0]));
    const judged = first[0].assertions[1];
    assert.deepEqual(judged.judge, { samples: 3, agreement: 1, scores: [1, 1, 1] });
    assert.equal(server.count, 4, 'one output and three judge calls');
    await run('names the capital of France');
    assert.equal(server.count, 4, 'outputs and judge answers both cached');
    await run('names the capital city of France');
    assert.equal(server.count, 7, 'a new rubric re-judges the cached output: three judge calls, no model call');
  });

  it('judges only outputs whose deterministic assertions pass, and a malformed judge answer errors the sample', async () => {
    const skipped = await run('names the capital', 'Berlin');
    assert.equal(skipped[0].status, 'failed');
    assert.match(skipped[0].assertions[1].reason, /not judged/);
    assert.equal(server.count, 1, 'no judge call');
    const bad = await run('MALFORMED');
    assert.equal(bad[0].status, 'errored');
    assert.equal(bad[0].error!.kind, 'judge');
  });
});
