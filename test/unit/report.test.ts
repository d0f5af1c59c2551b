import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { startFakeOpenAI, type FakeOpenAI, type ChatBody } from '../support/fake-openai';
import { removeDir, tmpProject } from '../support/tmp';
import { cli } from '../support/cli';
import { findRun, resultRows, resultsView, runHistory, type CaseOutcome, type ResultsView } from '../../src/core';

const PROMPT = `name: Greeter
model: gpt-4o-mini
messages:
  - role: user
    content: "Say hello to {{ who }}, politely"
suites:
  golden:
    samples: 5
    cases:
      - name: ann
        vars: { who: Ann }
        assert:
          - type: icontains
            value: hello
      - name: bob
        vars: { who: Bob }
        assert:
          - type: icontains
            value: bob
`;

/** A model output that tries to end the report's data element and run a script. */
const HOSTILE = 'Bye Ann </script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">';

/** The view embedded in an HTML report. */
function embeddedView(html: string): ResultsView {
  const m = /<script type="application\/json" id="promptgate-view">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'the report embeds its view');
  return JSON.parse(m[1]);
}

describe('the HTML report and `promptgate report` (built CLI)', () => {
  let server: FakeOpenAI;
  let dir: string;
  let env: Record<string, string>;
  let broken = false;
  before(async () => {
    server = await startFakeOpenAI({ respond: (body: ChatBody) => ({ content: broken && body.messages.at(-1)!.content.includes('Ann') ? HOSTILE : `Hello ${body.messages.at(-1)!.content.includes('Ann') ? 'Ann' : 'Bob'}!` }) });
    env = { OPENAI_BASE_URL: server.baseURL };
    dir = await tmpProject({ 'greet.prompt.yml': PROMPT });
    assert.equal((await cli(['test'], dir, env)).code, 0);
    assert.equal((await cli(['approve'], dir, env)).code, 0);
    assert.equal((await cli(['test'], dir, env)).code, 0);
  });
  after(async () => {
    await server.close();
    await removeDir(dir);
  });

  it('test --html: one file, no network, the regression first with its arithmetic and diff, the history of the runs, and model output kept as data', async () => {
    broken = true;
    const run = await cli(['test', '--no-cache', '--html', 'r.html', '--json', 'r.json'], dir, env);
    broken = false;
    assert.equal(run.code, 1, run.stderr);
    const html = await fs.readFile(path.join(dir, 'r.html'), 'utf8');
    // Exactly the page's two script elements (its data and its code): the output did not add one.
    assert.equal(html.match(/<script/g)?.length, 2);
    assert.ok(!html.includes('</script><script>window.pwned'), 'the output cannot close the data element');
    assert.match(html, /Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'nonce-[^']+'; script-src 'nonce-[^']+';"/);
    assert.ok(!/(src|href)=["']?(https?:)?\/\//.test(html), 'nothing is loaded from a network');
    assert.match(html, /Chart\.js v4/, 'the charts library is inlined with its licence notice');
    const view = embeddedView(html);
    assert.equal(view.header.gate, 'failed');
    assert.equal(view.rows[0].name, 'ann');
    assert.equal(view.rows[0].verdict, 'regressed');
    assert.match(view.rows[0].text.baseline, /^100% \(5\/5\) → 0% \(0\/5\)$/);
    assert.match(view.rows[0].text.evidence, /^p = [\d.e-]+ ≤ [\d.]+ \(/);
    assert.equal(view.rows[0].diff?.kind, 'text');
    assert.equal(view.rows[0].output, HOSTILE, 'the output travels as data, to be placed as text');
    assert.deepEqual(view.groups.map((g) => [g.suite, g.answered, g.passed]), [['golden', 10, 5]]);
    // Three recorded runs of greet.prompt.yml, oldest first, the last with half its samples passing.
    assert.deepEqual(view.history.map((h) => h.prompt), ['greet.prompt.yml']);
    assert.deepEqual(view.history[0].points.map((p) => p.passRate), [1, 1, 0.5]);
    assert.equal(view.history[0].points[2].runId, view.runId);
    const json = JSON.parse(await fs.readFile(path.join(dir, 'r.json'), 'utf8'));
    assert.equal(json.summary.runId, view.runId);
  });

  it('report: the same reports from a recorded run without calling the model; the exit code is its gate', async () => {
    const runs = (await fs.readdir(path.join(dir, '.promptgate/runs'))).sort();
    const calls = server.count;
    const regressedRun = runs[2].replace(/\.jsonl$/, '');
    const again = await cli(['report', '--run', regressedRun.slice(0, 30), '--html', 'again.html', '--json', 'again.json'], dir, env);
    assert.equal(again.code, 1, again.stderr);
    assert.equal(server.count, calls, 'no model was called');
    const before = JSON.parse(await fs.readFile(path.join(dir, 'r.json'), 'utf8'));
    const after = JSON.parse(await fs.readFile(path.join(dir, 'again.json'), 'utf8'));
    assert.deepEqual(after.cases.map((c: { id: string; verdict: { kind: string } }) => [c.id, c.verdict.kind]), before.cases.map((c: { id: string; verdict: { kind: string } }) => [c.id, c.verdict.kind]));
    assert.deepEqual(after.summary, before.summary);
    assert.equal(embeddedView(await fs.readFile(path.join(dir, 'again.html'), 'utf8')).rows[0].verdict, 'regressed');
    // An earlier run: passing.
    assert.equal((await cli(['report', '--run', runs[1].replace(/\.jsonl$/, ''), '--json', 'ok.json'], dir, env)).code, 0);

    const unknown = await cli(['report', '--run', 'nope', '--html', 'x.html'], dir, env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no recorded run 'nope' in .*runs \(newest: .*\)/);
    const ambiguous = await cli(['report', '--run', runs[0].slice(0, 4), '--html', 'x.html'], dir, env);
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /matches 3 runs; give more of the id/);
    const nothing = await cli(['report'], dir, env);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /say what to write: --html FILE/);
  });

  it('a run with another model than the baseline’s shows both answers side by side', async () => {
    const swap = await cli(['test', '--no-cache', '--model', 'gpt-4.1-mini', '--html', 'swap.html'], dir, env);
    assert.equal(swap.code, 0, swap.stderr);
    const view = embeddedView(await fs.readFile(path.join(dir, 'swap.html'), 'utf8'));
    assert.deepEqual(
      view.comparisons.map((c) => [c.kind, c.name, c.cells.map((x) => x.label)]),
      [
        ['swap', 'ann', ['gpt-4o-mini (baseline)', 'gpt-4.1-mini (this run)']],
        ['swap', 'bob', ['gpt-4o-mini (baseline)', 'gpt-4.1-mini (this run)']],
      ],
    );
    assert.equal(view.comparisons[0].cells[1].output, 'Hello Ann!');
    assert.equal(view.history[0].points.at(-1)!.model, 'gpt-4.1-mini', 'the history marks the swapped run');
  });
});

describe('judge reasons in the HTML report (built CLI)', () => {
  let server: FakeOpenAI;
  let dir: string;
  after(async () => {
    await server.close();
    await removeDir(dir);
  });

  it("shows each judged assertion's score with the judge's reason, and why a judge gave no score", async () => {
    server = await startFakeOpenAI({
      respond: (b: ChatBody) => {
        if (b.messages[0].content.startsWith('You grade the output')) {
          // The judge of Rome answers prose instead of JSON: that sample is errored, with the reason.
          if (b.messages[1].content.includes('<output>\nRome')) return { content: 'I think it is fine.' };
          return { content: JSON.stringify({ reason: 'it names Paris as the capital', pass: true, score: 0.9 }) };
        }
        return { content: b.messages.at(-1)!.content.includes('France') ? 'Paris' : 'Rome' };
      },
    });
    const rubric = (country: string) => `      - name: ${country}\n        vars: { country: ${country} }\n        assert:\n          - type: llm-rubric\n            value: names the capital\n`;
    dir = await tmpProject({ 'geo.prompt.yml': `model: gpt-4o-mini\nmessages:\n  - role: user\n    content: "Capital of {{ country }}?"\nsuites:\n  geo:\n    cases:\n${rubric('France')}${rubric('Italy')}` });
    const run = await cli(['test', '--html', 'r.html'], dir, { OPENAI_BASE_URL: server.baseURL });
    assert.equal(run.code, 1, run.stderr);
    const view = embeddedView(await fs.readFile(path.join(dir, 'r.html'), 'utf8'));
    const judges = Object.fromEntries(view.rows.map((r) => [r.name, r.judges]));
    assert.deepEqual(judges.France, [{ assertion: 'llm-rubric', after: 0.9, reasons: ['it names Paris as the capital'] }]);
    assert.equal(judges.Italy.length, 1);
    assert.equal(judges.Italy[0].after, undefined);
    assert.match(judges.Italy[0].error ?? '', /JSON/i, 'the reason the judge gave no score');
  });
});

describe('the results view (core)', () => {
  const outcome = (name: string, model: string, kind: CaseOutcome['verdict']['kind'], extra: Partial<CaseOutcome> = {}): CaseOutcome =>
    ({
      spec: { id: `p.prompt.yml::s@${model}::${name}`, name, suite: `s@${model}`, tags: [], relFile: 'p.yml', range: { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } }, prompt: { relFile: 'p.yml', model, provider: { id: 'openai' } }, request: { model } },
      results: [{ status: kind === 'pass' ? 'passed' : 'failed', output: `${model} says hi`, assertions: [], sample: 0 }],
      verdict: { kind, passing: kind === 'pass', current: { rate: kind === 'pass' ? 1 : 0, passed: kind === 'pass' ? 1 : 0, total: 1, errored: 0, interval: { lower: 0, upper: 1 } } },
      judgeScores: [],
      cached: 0,
      ...extra,
    }) as unknown as CaseOutcome;

  it('orders regressions first, then errors and failures, keeping the order within a kind', () => {
    const view = resultsView({ outcomes: [outcome('a', 'm', 'pass'), outcome('b', 'm', 'new'), outcome('c', 'm', 'regressed'), outcome('d', 'm', 'errored'), outcome('e', 'm', 'regressed')], attacks: [], counts: {} as never });
    assert.deepEqual(view.rows.map((r) => r.name), ['c', 'e', 'd', 'b', 'a']);
  });

  it('puts the same test under two providers side by side, and nothing for a single model', () => {
    const two = resultsView({ outcomes: [outcome('t1', 'gpt-4o', 'pass'), outcome('t1', 'claude-x', 'fail'), outcome('t2', 'gpt-4o', 'pass')], attacks: [], counts: {} as never });
    assert.deepEqual(two.comparisons.map((c) => [c.kind, c.name, c.cells.map((x) => `${x.label}: ${x.output}`)]), [['providers', 't1', ['gpt-4o: gpt-4o says hi', 'claude-x: claude-x says hi']]]);
  });

  it('gives each judged assertion its reasons: failing samples first, each once, at most three', () => {
    const judged = (status: string, reason: string) => ({ status, output: 'x', sample: 0, assertions: [{ type: 'llm-rubric', pass: status === 'passed', score: 0, reason, judge: { samples: 1, agreement: 1 } }] });
    const o = outcome('j', 'm', 'fail', {
      results: [judged('passed', 'polite and correct'), judged('failed', 'rude'), judged('failed', 'rude'), judged('failed', 'no greeting'), judged('failed', 'off topic'), judged('failed', 'too long')] as never,
      judgeScores: [{ assertion: 'llm-rubric', index: 0, before: 0.9, after: 0.3 }],
    });
    const [row] = resultRows([o]);
    assert.deepEqual(row.judges, [{ assertion: 'llm-rubric', before: 0.9, after: 0.3, reasons: ['rude', 'no greeting', 'off topic'] }]);
  });
});

describe('run history and recorded runs (core)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tmpProject({});
  });
  afterEach(async () => removeDir(dir));

  const record = (runId: string, cases: object[], head = true) => [head ? JSON.stringify({ type: 'run', runId, startedAt: `${runId}Z`, total: cases.length }) : '', ...cases.map((c) => JSON.stringify({ type: 'case', ...c })), ''].join('\n');

  it('reads each prompt’s pass rate, cost and latency per run, skipping broken lines and records without a run line', async () => {
    await fs.writeFile(path.join(dir, '2026-01-01T00.jsonl'), record('2026-01-01T00', [{ caseId: 'a', prompt: 'p.yml', status: 'passed', latencyMs: 100, cost: 0.01, source: 'live' }, { caseId: 'b', prompt: 'p.yml', status: 'failed', latencyMs: 300, cost: 0.02, source: 'cache' }, { caseId: 'c', prompt: 'p.yml', status: 'errored' }]) + '{"type":"case", broken\n');
    await fs.writeFile(path.join(dir, '2026-01-02T00.jsonl'), record('2026-01-02T00', [{ caseId: 'a', prompt: 'q.yml', status: 'passed' }], false));
    await fs.writeFile(path.join(dir, '2026-01-03T00.jsonl'), record('2026-01-03T00', [{ caseId: 'a', prompt: 'p.yml', status: 'passed' }]));
    const h = await runHistory(dir);
    assert.deepEqual(h.map((x) => x.prompt), ['p.yml']);
    assert.deepEqual(h[0].points.map((p) => [p.runId, p.passRate, p.answered, p.cases, p.costUsd, p.latencyMs]), [
      ['2026-01-01T00', 0.5, 2, 3, 0.01, 200],
      ['2026-01-03T00', 1, 1, 1, 0, undefined],
    ]);
    assert.deepEqual((await runHistory(dir, 1))[0].points.map((p) => p.runId), ['2026-01-03T00'], 'only the newest `limit` records');
    assert.deepEqual(await runHistory(path.join(dir, 'missing')), []);
  });

  it('finds a run by id, unique prefix or `latest`, and says which runs there are otherwise', async () => {
    await assert.rejects(findRun(dir), /no recorded runs in .*: run `promptgate test` first/);
    for (const id of ['2026-01-01T10', '2026-01-01T11', '2026-01-02T09']) await fs.writeFile(path.join(dir, `${id}.jsonl`), record(id, []));
    assert.equal(path.basename(await findRun(dir)), '2026-01-02T09.jsonl');
    assert.equal(path.basename(await findRun(dir, '2026-01-02')), '2026-01-02T09.jsonl');
    await assert.rejects(findRun(dir, '2026-01-01'), /'2026-01-01' matches 2 runs; give more of the id \(newest: 2026-01-01T10, 2026-01-01T11, 2026-01-02T09\)/);
  });
});
