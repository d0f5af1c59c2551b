import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { Baselines, resultRows, loadConfig, loadProject, planApproval, rejudgeOutcomes, runSession, runSettings, writeApproval, type RunReport, type SessionEvent } from '../../src/core';
import { jsonReportChunks } from '../../src/cli/reporters/json';
import { removeDir, tmpProject } from '../support/tmp';
import { greetPrompt } from '../support/fixtures';

const PROMPT = greetPrompt({ provider: '{ id: echo }', bob: 'carol' });

describe('run session (core: the one pipeline of the CLI and the editor)', () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await removeDir(dir);
  });

  const load = async () => {
    const { config } = await loadConfig(dir);
    const project = await loadProject({ root: dir, paths: [dir], providerDefaults: config.provider });
    return { config, project };
  };

  it('settings precedence: the first override that sets a value wins, then the files', () => {
    const config = { concurrency: 8 } as Parameters<typeof runSettings>[0];
    assert.deepEqual(runSettings(config, {}), { samples: undefined, concurrency: 8, baseURL: undefined, model: undefined });
    assert.equal(runSettings(config, { maxConcurrency: 3 }).concurrency, 3, "a promptfoo file's maxConcurrency caps the config");
    const s = runSettings(config, { maxConcurrency: 3 }, { samples: 5 }, { samples: 'auto', concurrency: 16, baseURL: '' }, { baseURL: 'http://127.0.0.1:1/v1' });
    assert.deepEqual(s, { samples: 5, concurrency: 16, baseURL: 'http://127.0.0.1:1/v1', model: undefined }, 'an empty setting is no override');
  });

  it('yields planned, the run, each verdict, each suite and the report with the gate, in that order; records the run', async () => {
    dir = await tmpProject({ 'greet.prompt.yml': PROMPT });
    const { config, project } = await load();
    const events: SessionEvent[] = [];
    for await (const e of runSession({ config, project, cases: project.cases, mode: 'live', cache: false, meta: { from: 'test' } }, { env: {}, now: Date.now })) events.push(e);
    const kinds = events.map((e) => e.type).filter((t, i, all) => t !== all[i - 1]);
    assert.deepEqual(kinds, ['planned', 'run-started', ...kinds.slice(2, kinds.indexOf('case-verdict')), 'case-verdict', 'suite-finished', 'run-finished']);
    assert.ok(!kinds.slice(2, kinds.indexOf('case-verdict')).some((k) => k === 'planned' || k === 'run-finished'));
    const last = events.at(-1) as Extract<SessionEvent, { type: 'run-finished' }>;
    assert.deepEqual(last.report.outcomes.map((o) => [o.spec.name, o.verdict.kind, o.verdict.passing]), [['ann', 'new', true], ['bob', 'new', false]]);
    assert.equal(last.report.gate, 'failed', 'a failing case without a baseline blocks');
    const planned = events[0] as Extract<SessionEvent, { type: 'planned' }>;
    const record = (await fs.readFile(planned.recordFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; from?: string });
    assert.deepEqual([record[0].type, record[0].from, record.at(-1)!.type], ['run', 'test', 'summary']);
    assert.equal(path.dirname(planned.recordFile), config.runsDir);
  });

  it('past fullResults samples a passing one is held trimmed: the same verdicts, and the JSON report still has every answer', async () => {
    const many = PROMPT.replace(/      - name: bob[\s\S]*$/, Array.from({ length: 6 }, (_, i) => `      - name: p${i}\n        vars: { who: P${i} }\n        assert: [{ type: icontains, value: hello }]\n`).join(''));
    dir = await tmpProject({ 'greet.prompt.yml': many });
    const { config, project } = await load();
    const run = async (fullResults?: number, asBaseline?: boolean) => {
      let report: RunReport | undefined;
      for await (const e of runSession({ config, project, cases: project.cases, mode: 'live', cache: false, fullResults, asBaseline }, { env: {}, now: Date.now })) if (e.type === 'run-finished') report = e.report;
      return report!;
    };
    const whole = await run();
    const trimmed = await run(2);
    assert.equal(whole.trimmed, undefined);
    assert.equal(trimmed.trimmed, 5, 'seven passing samples, two held whole');
    const verdicts = (r: RunReport) => r.outcomes.map((o) => [o.spec.name, o.verdict.kind, o.verdict.passing, o.results.map((x) => x.status).join()]);
    assert.deepEqual(verdicts(trimmed), verdicts(whole));
    assert.deepEqual([trimmed.gate, trimmed.counts], [whole.gate, whole.counts]);
    assert.equal(trimmed.outcomes.filter((o) => o.results[0].output !== undefined).length, 2);
    // The panel's rows keep their figures, and say where a held-back answer is.
    const rows = (r: RunReport) => resultRows(r.outcomes).map((x) => [x.id, x.tokens, x.costUsd, x.verdict]);
    assert.deepEqual(rows(trimmed), rows(whole));
    assert.match(resultRows(trimmed.outcomes).at(-1)!.output ?? "", /not held in memory in a run this large: `promptgate report` of this run shows it/);
    const json = async (r: RunReport) => {
      let text = '';
      for await (const chunk of jsonReportChunks({ ...r, display: (f: string) => f })) text += chunk;
      return JSON.parse(text) as { results: { caseId: string; output: string; assertions: { reason: string }[] }[]; cases: { id: string; verdict: { kind: string } }[] };
    };
    const [a, b] = [await json(whole), await json(trimmed)];
    const answers = (j: typeof a) => j.results.map((x) => [x.caseId, x.output, x.assertions[0].reason]).sort();
    assert.equal(b.results.length, 7);
    assert.deepEqual(answers(b), answers(a), 'the trimmed run reports every answer and reason, from its run record');
    assert.deepEqual(b.cases.map((c) => [c.id, c.verdict.kind]), a.cases.map((c) => [c.id, c.verdict.kind]));

    // Approved after a trimmed run, its outcomes judged again (as the editor does) claim no change.
    const before = await run(0, true);
    await writeApproval(await planApproval({ cases: project.cases, wholeSuites: true, baselinesDir: config.baselinesDir, runsDir: config.runsDir, sampling: config.sampling }));
    const { baselines } = await Baselines.load(config.baselinesDir, project.suites);
    assert.deepEqual(rejudgeOutcomes(before.outcomes, baselines, config).map((o) => [o.verdict.kind, o.change]), project.cases.map(() => ['pass', undefined]));
    // A case with a baseline keeps its answer: it is compared with the baseline's (no false change).
    await run(undefined, true);
    await writeApproval(await planApproval({ cases: project.cases, wholeSuites: true, baselinesDir: config.baselinesDir, runsDir: config.runsDir, sampling: config.sampling }));
    const again = await run(0);
    assert.equal(again.trimmed, again.summary.passed);
    assert.deepEqual(again.outcomes.map((o) => [o.verdict.kind, o.change]), project.cases.map(() => ['pass', undefined]));
    assert.ok(again.outcomes.every((o) => o.results[0].output?.includes('Say hello')));
  });

  it('a broken baseline file is a located reason not to run, and nothing is recorded', async () => {
    dir = await tmpProject({ 'greet.prompt.yml': PROMPT, '.promptgate/baselines/greet.prompt.yml/golden.json': '{ "format": 1, "cases": 3 }' });
    const { config, project } = await load();
    const events: SessionEvent[] = [];
    for await (const e of runSession({ config, project, cases: project.cases, mode: 'live', cache: false }, { env: {}, now: Date.now })) events.push(e);
    assert.equal(events.length, 1);
    const e = events[0] as Extract<SessionEvent, { type: 'not-run' }>;
    assert.equal(e.reason.kind, 'baselines');
    assert.ok(e.reason.kind === 'baselines' && e.reason.diagnostics[0].file.endsWith('golden.json'));
    assert.equal(await fs.readdir(config.runsDir).catch(() => 'none'), 'none');
  });

  it('an interrupted run is stopped, its gate undecided', async () => {
    dir = await tmpProject({ 'greet.prompt.yml': PROMPT });
    const { config, project } = await load();
    const abort = new AbortController();
    abort.abort();
    let report;
    for await (const e of runSession({ config, project, cases: project.cases, mode: 'live', cache: false, signal: abort.signal }, { env: {}, now: Date.now })) if (e.type === 'run-finished') report = e.report;
    assert.deepEqual(report!.stopped, { kind: 'interrupted', reason: 'interrupted' });
    assert.equal(report!.gate, 'stopped');
  });
});
