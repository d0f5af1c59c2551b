import { strict as assert } from 'node:assert';
import { AdaptiveLimiter, OpenAIProvider, runCases, type CaseSpec, type CaseResult, loadProject } from '../../src/core';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { removeDir, tmpProject } from '../support/tmp';

describe('adaptive concurrency (AIMD)', () => {
  it('is unlimited until a 429, cuts to 0.7 once per window, grows by 1/window, and pauses for Retry-After', async () => {
    let t = 1000;
    const l = new AdaptiveLimiter({ now: () => t });
    const tickets = await Promise.all(Array.from({ length: 40 }, () => l.acquire()));
    assert.equal(l.limit, Infinity);
    // 40 in flight; the server rejects: the first 429 cuts to (39 + 1) × 0.7, later answers to requests
    // sent before that decrease do not lower it again.
    t = 1010;
    l.release(tickets[0], 'rate_limited', { retryAfterMs: 50 });
    for (const x of tickets.slice(1, 20)) l.release(x, 'rate_limited');
    assert.equal(l.limit, 28);
    assert.equal(l.stats.decreases, 1);
    for (const x of tickets.slice(20)) l.release(x, 'ok');
    assert.ok(l.limit > 28 && l.limit < 29, `grows by 1/window per success: ${l.limit}`);
    // Paused until 1060 for everyone.
    let acquired = false;
    const next = l.acquire().then((x) => ((acquired = true), x));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(acquired, false, 'waits out Retry-After');
    t = 1061;
    const ticket = await next;
    // A 429 for a request sent after the decrease halves again.
    t = 1070;
    l.release(ticket, 'rate_limited');
    assert.ok(l.limit < 29 * 0.7 && l.limit >= 1, String(l.limit));
  });

  it('keeps at most the window in flight; the rest wait until a release makes room', async () => {
    const l = new AdaptiveLimiter();
    const a = await Promise.all(Array.from({ length: 6 }, () => l.acquire()));
    l.release(a[0], 'rate_limited'); // window: (5 + 1) × 0.7 = 4.2, with 5 in flight
    let got = 0;
    const waiting = Array.from({ length: 3 }, () => l.acquire().then((x) => (got++, x)));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(got, 0);
    l.release(a[1], 'other'); // 4 in flight, window 4.2: still full
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(got, 0, 'still 4 in flight');
    l.release(a[2], 'ok'); // 3 in flight, window 4.44: one goes
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(got, 1);
    l.release(a[3], 'ok');
    l.release(a[4], 'ok');
    await Promise.all(waiting);
    assert.equal(got, 3);
  });

  it('requests per minute: a token bucket spreads calls out', async () => {
    let t = 0;
    const l = new AdaptiveLimiter({ rpm: 60, now: () => t });
    for (let i = 0; i < 60; i++) l.release(await l.acquire(), 'ok');
    let done = false;
    const p = l.acquire().then(() => (done = true));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(done, false, 'the 61st call in the first minute waits');
    t = 1000; // one second refills one request
    await p;
  });

  it('1,000 cases against a server that takes 20 at once and rejects the rest with 429: none fails', async function () {
    this.timeout(120_000);
    const server: FakeOpenAI = await startFakeOpenAI({ keepRequests: false, maxInFlight: 20, latencyMs: 10 });
    const dir = await tmpProject({ 'p.prompt.yml': `model: gpt-4o-mini\nmessages:\n  - role: user\n    content: "Repeat {{ n }}"\nsuites:\n  s:\n    cases:\n${Array.from({ length: 1000 }, (_, i) => `      - { id: c${i}, vars: { n: "${i}" }, assert: [{ type: contains, value: "Repeat ${i}" }] }`).join('\n')}\n` });
    try {
      const project = await loadProject({ root: dir, paths: [dir] });
      assert.equal(project.cases.length, 1000);
      const limiter = new AdaptiveLimiter();
      const provider = new OpenAIProvider({ apiKey: 'x', baseURL: server.baseURL, timeoutMs: 10_000, retry: { maxRetries: 2, maxRateLimitRetries: 10, baseDelayMs: 20, maxDelayMs: 500 }, stream: false, limiter });
      const results: CaseResult[] = [];
      for await (const e of runCases(project.cases as CaseSpec[], { runId: 'r', concurrency: 64 }, { providerFor: () => provider, prices: {}, now: Date.now })) if (e.type === 'case-finished') results.push(e.result);
      assert.equal(results.length, 1000);
      assert.deepEqual([...new Set(results.map((r) => r.status))], ['passed'], JSON.stringify(results.find((r) => r.status !== 'passed')?.error));
      // The window settled near the server's 20: a few hundred 429s at most, not one per case.
      assert.ok(limiter.stats.rateLimited < 400, `${limiter.stats.rateLimited} 429s`);
      assert.ok(limiter.stats.lowestWindow >= 5, `the window fell to ${limiter.stats.lowestWindow}`);
    } finally {
      await server.close();
      await removeDir(dir);
    }
  });
});
