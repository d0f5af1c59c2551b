import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import {
  OpenAIProvider,
  ProviderError,
  RecordingProvider,
  ReplayProvider,
  ResponseStore,
  RunRecorder,
  loadProject,
  priceTable,
  recorded,
  requestKey,
  runCases,
  type CaseResult,
  type CaseSpec,
  type Provider,
  type RunEvent,
  type RunSummary,
} from '../../src/core';
import { LineCase } from '../../src/core/formats/line-case';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { removeDir, tmpProject } from '../support/tmp';

function promptWith(n: number): string {
  const cases = Array.from({ length: n }, (_, i) => `      - name: case ${i}\n        vars: { who: "person ${i}" }\n        assert:\n          - type: contains\n            value: "person ${i}"\n          - type: not-contains\n            value: "person ${i}0"\n          - type: starts-with\n            value: "echo:"\n`).join('');
  return `name: Greeter\nmodel: gpt-4o-mini\nmessages:\n  - role: user\n    content: "Greet {{ who }}"\nsuites:\n  golden:\n    cases:\n${cases}`;
}

async function collect(events: AsyncIterable<RunEvent>): Promise<{ events: RunEvent[]; results: CaseResult[]; summary: RunSummary }> {
  const all: RunEvent[] = [];
  for await (const e of events) all.push(e);
  const results = all.flatMap((e) => (e.type === 'case-finished' ? [e.result] : []));
  const fin = all.find((e) => e.type === 'run-finished');
  assert.ok(fin && fin.type === 'run-finished');
  return { events: all, results, summary: fin.summary };
}

describe('runner', () => {
  let server: FakeOpenAI;
  let dir: string;
  let cases: CaseSpec[];
  let provider: Provider;

  beforeEach(async () => {
    server = await startFakeOpenAI({ latencyMs: 10 });
    dir = await tmpProject({ 'greet.prompt.yml': promptWith(12) });
    cases = (await loadProject({ root: dir, paths: [dir] })).cases;
    provider = new OpenAIProvider({ apiKey: 'sk-very-secret', baseURL: server.baseURL, timeoutMs: 2000, retry: { maxRetries: 2, baseDelayMs: 5, maxDelayMs: 20 }, stream: false });
  });
  afterEach(async () => {
    await server.close();
    await removeDir(dir);
  });

  const deps = (over: Partial<Parameters<typeof runCases>[2]> = {}) => ({ providerFor: () => provider, prices: priceTable(), now: () => performance.now(), ...over });

  it('runs every case, yields events in order per case, and never exceeds the concurrency limit', async () => {
    const { events, results, summary } = await collect(runCases(cases, { runId: 'r1', concurrency: 3 }, deps()));
    assert.equal(events[0].type, 'run-started');
    assert.equal(events.at(-1)!.type, 'run-finished');
    assert.equal(results.length, 12);
    assert.ok(results.every((r) => r.status === 'passed'), JSON.stringify(results.find((r) => r.status !== 'passed')));
    assert.ok(server.maxSeenInFlight <= 3 && server.maxSeenInFlight >= 2, `max in flight ${server.maxSeenInFlight}`);
    for (const id of cases.map((c) => c.id)) {
      const kinds = events.filter((e) => 'caseId' in e && e.caseId === id).map((e) => e.type);
      assert.deepEqual(kinds, ['case-started', 'case-output', 'assertions']);
    }
    assert.deepEqual([summary.total, summary.passed, summary.failed, summary.errored, summary.hits], [12, 12, 0, 0, 0]);
    assert.ok(summary.tokens.totalTokens > 0 && summary.cost > 0);
  });

  it('serves a re-run from the cache without calls, keeps the recorded latency, and keys each sample separately', async () => {
    const cache = new ResponseStore(path.join(dir, 'cache'));
    await collect(runCases(cases, { runId: 'a', concurrency: 4, samples: 2 }, deps({ cache })));
    assert.equal(server.count, 24, 'two samples per case are two calls');
    const second = await collect(runCases(cases, { runId: 'b', concurrency: 4, samples: 2 }, deps({ cache })));
    assert.equal(server.count, 24, 'no new calls');
    assert.equal(second.summary.hits, 24);
    assert.ok(second.results.every((r) => r.source === 'cache' && r.latencyMs! >= 10));
    assert.equal(second.summary.cost, 0);
    const entry = await fs.readFile(cache.fileOf(requestKey(cases[0].request, 1)), 'utf8');
    assert.ok(!entry.includes('sk-very-secret'), 'no secrets in cache entries');
  });

  it('ignores a corrupt cache entry and rewrites it', async () => {
    const cache = new ResponseStore(path.join(dir, 'cache'));
    const one = cases.slice(0, 1);
    await collect(runCases(one, { runId: 'a', concurrency: 1 }, deps({ cache })));
    const file = cache.fileOf(requestKey(one[0].request, 0));
    await fs.writeFile(file, '{"key": "trunc');
    const again = await collect(runCases(one, { runId: 'b', concurrency: 1 }, deps({ cache })));
    assert.equal(again.results[0].status, 'passed');
    assert.equal(again.results[0].source, 'live');
    assert.equal(server.count, 2);
    JSON.parse(await fs.readFile(file, 'utf8'));
  });

  it("does not serve another provider's cache entry", async () => {
    const cache = new ResponseStore(path.join(dir, 'cache'));
    const one = cases.slice(0, 1);
    await collect(runCases(one, { runId: 'a', concurrency: 1 }, deps({ cache })));
    const other: Provider = { id: 'other', complete: async () => ({ output: 'echo: person 0', toolCalls: [] }) };
    const r = await collect(runCases(one, { runId: 'b', concurrency: 1 }, deps({ cache, providerFor: () => other })));
    assert.equal(r.results[0].source, 'live');
  });

  it('records answers and replays them offline; a missing recording errors and names the request', async () => {
    const cassettes = new ResponseStore(path.join(dir, 'cassettes'));
    const recorder = new RecordingProvider(provider, cassettes, () => performance.now());
    await collect(runCases(cases.slice(0, 5), { runId: 'rec', concurrency: 2 }, deps({ providerFor: () => recorder })));
    await server.close();
    const replay = new ReplayProvider(cassettes);
    const r = await collect(runCases(cases.slice(0, 6), { runId: 'rep', concurrency: 2 }, deps({ providerFor: () => replay })));
    assert.deepEqual(r.results.map((x) => x.status).sort(), ['errored', 'passed', 'passed', 'passed', 'passed', 'passed']);
    const missing = r.results.find((x) => x.status === 'errored')!;
    assert.equal(missing.caseId, cases[5].id);
    assert.equal(missing.error!.kind, 'replay_miss');
    assert.match(missing.error!.message, /no recording for this request \(model gpt-4o-mini, sample 0, key [0-9a-f]{12}\)/);
    assert.ok(r.results.filter((x) => x.status === 'passed').every((x) => x.source === 'replay'));
    server = await startFakeOpenAI({});
  });

  it('marks provider failures as errored with their kind, and keeps going', async () => {
    await server.close();
    server = await startFakeOpenAI({ fault: (n, body) => (body.messages[0].content === 'Greet person 3' ? { kind: 'status', status: 400 } : undefined) });
    provider = new OpenAIProvider({ apiKey: 'k', baseURL: server.baseURL, timeoutMs: 2000, retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 }, stream: false });
    const { results, summary } = await collect(runCases(cases, { runId: 'e', concurrency: 4 }, deps()));
    assert.equal(summary.errored, 1);
    assert.equal(summary.passed, 11);
    const bad = results.find((r) => r.status === 'errored')!;
    assert.equal(bad.name, 'case 3');
    assert.equal(bad.error!.kind, 'bad_request');
  });

  it('a provider that throws something unexpected still accounts for the case', async () => {
    const weird: Provider = { id: 'weird', complete: async () => { throw new TypeError('boom'); } };
    const broken: Provider = { id: 'broken', complete: async () => ({ output: undefined as unknown as string, toolCalls: [] }) };
    const a = await collect(runCases(cases.slice(0, 2), { runId: 'w', concurrency: 2 }, deps({ providerFor: () => weird })));
    assert.deepEqual(a.results.map((r) => [r.status, r.error?.kind]), [['errored', 'network'], ['errored', 'network']]);
    const b = await collect(runCases(cases.slice(0, 2), { runId: 'b', concurrency: 2 }, deps({ providerFor: () => broken })));
    assert.equal(b.results.length, 2);
    assert.ok(b.results.every((r) => r.status === 'failed' || r.status === 'errored'));
  });

  it('samples a plan adds run once each, after the case\'s first, whatever the concurrency', async () => {
    // An errored sample finishes inside its slot, so the cursor still stands on its case when the
    // plan adds samples: they must come from the plan's additions only, not again from the cursor.
    const failing: Provider = { id: 'failing', complete: async () => { throw new ProviderError('server', 'down'); } };
    const plan = () => ({ initial: 1, next: (n: number) => (n < 4 ? n + 1 : undefined) });
    for (const concurrency of [1, 3]) {
      const { results } = await collect(runCases(cases.slice(0, 3), { runId: 'p', concurrency, plan }, deps({ providerFor: () => failing })));
      const seen = results.map((r) => `${r.name}#${r.sample}`).sort();
      assert.deepEqual(seen, ['case 0', 'case 1', 'case 2'].flatMap((n) => [0, 1, 2, 3].map((i) => `${n}#${i}`)), `concurrency ${concurrency}`);
    }
  });

  it('a case that cannot be built from its line is an internal error of its sample, and the run goes on', async () => {
    const source = { text: '{}', build: () => { throw new Error('the line changed'); }, definitions: () => [] };
    const broken = new LineCase(cases[0], source, 0, 2, 0);
    const { results, summary } = await collect(runCases([broken, cases[1]], { runId: 'l', concurrency: 2 }, deps()));
    assert.equal(summary.total, 2);
    const bad = results.find((r) => r.name === 'case 0')!;
    assert.equal(bad.status, 'errored');
    assert.match(bad.error!.message, /the line changed/);
    assert.equal(results.find((r) => r.name === 'case 1')!.status, 'passed');
    // A cancelled run does not build the cases it only marks skipped (a million of them, after Ctrl-C).
    const stop = new AbortController();
    stop.abort();
    const cancelled = await collect(runCases([broken], { runId: 'c', concurrency: 1, signal: stop.signal }, deps()));
    assert.deepEqual(cancelled.results.map((r) => [r.name, r.status]), [['case 0', 'skipped']]);
  });

  it('cancellation aborts calls in flight and marks the rest skipped', async () => {
    await server.close();
    server = await startFakeOpenAI({ latencyMs: 300 });
    provider = new OpenAIProvider({ apiKey: 'k', baseURL: server.baseURL, timeoutMs: 5000, retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 }, stream: false });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    const { results, summary } = await collect(runCases(cases, { runId: 'c', concurrency: 2, signal: ac.signal }, deps()));
    assert.ok(Date.now() - t0 < 1000, 'did not wait for the calls in flight');
    assert.equal(results.length, 12, 'every case is accounted for');
    assert.equal(summary.skipped, 12);
  });

  it('a consumer that stops early cancels the run', async () => {
    const gen = runCases(cases, { runId: 'x', concurrency: 1 }, deps());
    for await (const e of gen) if (e.type === 'case-finished') break;
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(server.count <= 3, `calls after stop: ${server.count}`);
  });

  it('records the run as JSONL: a header, one line per case, a summary', async () => {
    const rec = new RunRecorder(path.join(dir, 'runs'), 'run-1', { mode: 'live' });
    await rec.open();
    await collect(recorded(runCases(cases, { runId: 'run-1', concurrency: 4 }, deps()), rec));
    const lines = (await fs.readFile(rec.file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 14);
    assert.deepEqual([lines[0].type, lines[0].runId, lines[0].mode], ['run', 'run-1', 'live']);
    assert.equal(lines[1].type, 'case');
    for (const k of ['caseId', 'output', 'assertions', 'latencyMs', 'usage', 'cost', 'source']) assert.ok(k in lines[1], k);
    assert.equal(lines[13].type, 'summary');
    assert.equal(lines[13].passed, 12);
  });
});
