import { strict as assert } from 'node:assert';
import { DEFAULT_SAMPLING, DEFAULT_VERDICT_POLICY, computeVerdicts, loadProject, priceTable, runCases, samplePlan, type CaseResult, type Provider, type Tally } from '../../src/core';
import { baselineCaseFrom, baselineOutcomes, resultOutcomes } from '../../src/core/baseline';
import { rng, simulateGate } from '../support/simulation';
import { removeDir, tmpProject } from '../support/tmp';

// Issue 18's measurement with its 15 trials (the bench runs 100 and prints the figures beside the targets).
describe("the gate under simulation (seeded, issue 18's mix)", () => {
  const g = simulateGate({ seed: 18, trials: 15, cases: 400, drop: 0.3, policy: DEFAULT_VERDICT_POLICY, sampling: DEFAULT_SAMPLING });

  it('flags at most 1% of unchanged cases, and blocks at most 5% of runs where nothing changed', () => {
    assert.ok(g.perCaseFalseAlarms <= 0.01, JSON.stringify(g));
    assert.ok(g.falseBlocks <= 0.05 + 1e-9, JSON.stringify(g));
  });

  it('detects 30-point drops: 95% of near-deterministic cases, 80% of stochastic ones; blocks every run where 10% dropped', () => {
    assert.ok(g.detection['p = 1.0'] >= 0.95 && g.detection['p = 0.98'] >= 0.95, JSON.stringify(g.detection));
    assert.ok(g.detection.stochastic >= 0.8, JSON.stringify(g.detection));
    assert.equal(g.tenPercentBlocked, 1);
  });

  it('spends at most 15 samples per unchanged case on average, never more than 60, and at most 30 per baseline', () => {
    assert.ok(g.unchangedSamples.mean <= 15, JSON.stringify(g.unchangedSamples));
    assert.ok(g.maxSamples <= 60);
    assert.ok(g.baselineSamples <= 30, String(g.baselineSamples));
  });

  it('without sharing alpha across the family, a suite this size blocks most unchanged runs', () => {
    const none = simulateGate({ seed: 18, trials: 6, cases: 400, drop: 0.3, policy: { ...DEFAULT_VERDICT_POLICY, correction: 'none' }, sampling: DEFAULT_SAMPLING });
    assert.ok(none.falseBlocks >= 0.5, JSON.stringify(none));
  });

  it('the runner follows an auto plan end to end: baseline run, unchanged run, degraded run', async () => {
    const n = 24;
    const cases = Array.from({ length: n }, (_, i) => `      - id: c${i}\n        vars: { i: ${i} }\n        assert:\n          - type: contains\n            value: ok`).join('\n');
    const dir = await tmpProject({ 'p.prompt.yml': `model: m\nprovider: echo\nmessages:\n  - role: user\n    content: "case {{ i }}"\nsuites:\n  s:\n    cases:\n${cases}\n` });
    try {
      const specs = (await loadProject({ root: dir, paths: [dir] })).cases;
      // Case i passes with probability 0.97; in the degraded world cases 0..11 drop to 0.6.
      const provider = (degraded: boolean, seed: number): Provider => {
        const random = rng(seed);
        return {
          id: 'stochastic',
          complete: async (req) => {
            const i = Number(/case (\d+)/.exec(req.messages[0].content)![1]);
            const p = degraded && i < 12 ? 0.6 : 0.97;
            return { output: random() < p ? 'ok' : 'no', toolCalls: [] };
          },
        };
      };
      const run = async (p: Provider, baselines: Map<string, Tally>) => {
        const byCase = new Map<string, CaseResult[]>();
        for await (const e of runCases(specs, { runId: 'r', concurrency: 4, plan: (s) => samplePlan('auto', baselines.get(s.id), DEFAULT_VERDICT_POLICY, DEFAULT_SAMPLING, { family: baselines.size }) }, { providerFor: () => p, prices: priceTable(), now: () => 0 })) {
          if (e.type === 'case-finished') byCase.set(e.result.caseId, [...(byCase.get(e.result.caseId) ?? []), e.result]);
        }
        return byCase;
      };
      const base = await run(provider(false, 1), new Map());
      const baseTallies = new Map([...base].map(([id, rs]) => [id, { passed: rs.filter((r) => r.status === 'passed').length, total: rs.length }]));
      for (const rs of base.values()) assert.ok(rs.length >= 20 && rs.length <= 40);
      let falseAlarms = 0;
      for (const [degraded, seed] of [[false, 2], [true, 3]] as const) {
        const current = await run(provider(degraded, seed), baseTallies);
        const verdicts = computeVerdicts(
          specs.map((s) => ({
            caseId: s.id,
            passRate: 0.5,
            sequential: true,
            current: resultOutcomes(current.get(s.id)!),
            currentVersionId: 'v',
            baseline: { samples: baselineOutcomes(baselineCaseFrom(base.get(s.id)!)!), versionId: 'v' },
          })),
          DEFAULT_VERDICT_POLICY,
          DEFAULT_SAMPLING,
        );
        const regressed = verdicts.filter((v) => v.kind === 'regressed').map((v) => Number(v.caseId.split('::c')[1]));
        falseAlarms += regressed.filter((i) => !degraded || i >= 12).length;
        if (degraded) assert.ok(regressed.filter((i) => i < 12).length >= 10, JSON.stringify(regressed));
        for (const [id, rs] of current) assert.deepEqual(rs.map((r) => r.sample).sort((a, b) => a - b), [...Array(rs.length).keys()], id);
      }
      // The false-alarm rate is measured on thousands of cases above; 36 unchanged runs here may show one.
      assert.ok(falseAlarms <= 1, `false alarms: ${falseAlarms}`);
    } finally {
      await removeDir(dir);
    }
  });
});
