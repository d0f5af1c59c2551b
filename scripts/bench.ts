// `npm run bench`: PromptGate's speed and memory against the local OpenAI-compatible server.
// Every figure is a real run of the built CLI (dist/cli.js) in its own process, as a user runs it.
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { spawn } from 'node:child_process';
import { startFakeOpenAI, type FakeOpenAI } from '../test/support/fake-openai';
import { simulate } from '../test/support/simulation';
import { DEFAULT_SAMPLING, DEFAULT_VERDICT_POLICY, alphaPerLook, requiredSamples } from '../src/core';
import { harnessInstalled, launchWorkbench, runHostSuite } from '../test/vscode/workbench';

const CLI = path.resolve(__dirname, 'cli.js');

interface Measured {
  wallMs: number;
  maxRssMB: number;
  exitCode: number | null;
}

function workspace(n: number): string {
  const cases: string[] = [];
  for (let i = 0; i < n; i++) {
    cases.push(`      - id: c${i}\n        vars: { item: "item number ${i}" }`);
  }
  return `name: Bench\nmodel: gpt-4o-mini\nprovider: { id: openai, maxRetries: 2 }\nmessages:\n  - role: system\n    content: You repeat what you are given.\n  - role: user\n    content: "Repeat: {{ item }}"\nsuites:\n  bench:\n    assert:\n      - type: contains\n        value: "{{ item }}"\n      - type: starts-with\n        value: "echo:"\n      - type: word-count\n        value: { max: 20 }\n    cases:\n${cases.join('\n')}\n`;
}

async function makeWorkspace(n: number): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `promptgate-bench-${n}-`));
  await fs.writeFile(path.join(dir, 'bench.prompt.yml'), workspace(n));
  return dir;
}

/** Runs the CLI once and reads its peak RSS from a preload that reports it at exit. */
async function runCli(args: string[], env: Record<string, string>): Promise<Measured> {
  const preload = path.join(os.tmpdir(), 'promptgate-bench-rss.js');
  await fs.writeFile(preload, "process.on('exit', () => process.stderr.write(`\\n__MAXRSS_KB__${process.resourceUsage().maxRSS}\\n`));\n");
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', preload, CLI, ...args], { env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - t0;
      const m = /__MAXRSS_KB__(\d+)/.exec(stderr);
      if (code !== 0) reject(new Error(`promptgate exited ${code}:\n${stderr.slice(-2000)}`));
      else resolve({ wallMs, maxRssMB: m ? Number(m[1]) / 1024 : NaN, exitCode: code });
    });
  });
}

const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

async function main() {
  const rows: string[] = [];
  const say = (s: string) => {
    rows.push(s);
    process.stdout.write(`${s}\n`);
  };
  say(`PromptGate bench · node ${process.version} · ${os.cpus().length} cores · ${os.platform()}`);
  say('');

  // Verdict quality: the seeded simulation of auto sampling against baselines (the unit test's, larger).
  {
    const t0 = performance.now();
    const r = simulate({ seed: 20261127, cases: 20000, drop: 0.3, policy: DEFAULT_VERDICT_POLICY, sampling: DEFAULT_SAMPLING });
    const a = alphaPerLook(DEFAULT_VERDICT_POLICY, DEFAULT_SAMPLING);
    say(`verdicts    simulation of 20,000 cases (3/4 near-deterministic, 1/4 with pass probability 0.3-0.9), auto sampling, alpha ${DEFAULT_VERDICT_POLICY.alpha} over ${Math.round(DEFAULT_VERDICT_POLICY.alpha / a)} looks, ${fmt((performance.now() - t0) / 1000, 1)} s`);
    for (const [label, rows, what] of [['unchanged', r.unchanged, 'false alarms'], ['30-point drop', r.dropped, 'detected']] as const) {
      for (const g of rows) {
        say(`            ${label.padEnd(13)} ${g.group.padEnd(24)} ${String(g.cases).padStart(6)} cases  ${what} ${fmt(g.rate * 100, 2).padStart(6)}%  samples mean ${fmt(g.meanSamples, 1).padStart(5)} max ${String(g.maxSamples).padStart(2)}  (baseline mean ${fmt(g.meanBaselineSamples, 1)})`);
      }
    }
    const worst = requiredSamples(0.6, 0.3, a, 0.95);
    say(`            95% power for 0.6 → 0.3 at the per-look alpha ${a.toFixed(4)} needs ${worst} samples per side (baseline and run); the cap is ${DEFAULT_SAMPLING.max}`);
  }
  say('');

  // promptfoo 0.121.20 on this machine class (issue 8's reference figures; not installed here: it
  // is not a dependency, and measuring it needs its native modules built).
  const PF = { perSecond1k: 1000 / 7.2, perSecond5k: 5000 / 39.6, rss1kMB: 309, rss5kMB: 467 };
  // Its 10,000-case peak, extrapolated linearly from 1,000 and 5,000 (it grows with N).
  const pfRss10k = PF.rss5kMB + ((PF.rss5kMB - PF.rss1kMB) / 4000) * 5000;
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET');

  // Throughput: 0 ms latency, cache off, 3 deterministic assertions per case.
  let server: FakeOpenAI = await startFakeOpenAI({ keepRequests: false });
  const env = { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'bench' };
  for (const [n, pf] of [[1000, PF.perSecond1k], [5000, PF.perSecond5k]] as const) {
    const dir = await makeWorkspace(n);
    const m = await runCli(['test', dir, '--no-cache', '--concurrency', '16'], env);
    const perSecond = n / (m.wallMs / 1000);
    say(`throughput  N=${String(n).padStart(5)}  0 ms latency, concurrency 16, no cache: ${fmt(m.wallMs / 1000, 2)} s wall, ${fmt(perSecond, 0)} cases/s = ${fmt(perSecond / pf, 1)}x promptfoo (${fmt(pf, 0)}/s); target ≥ 10x: ${verdict(perSecond >= 10 * pf)}; peak RSS ${fmt(m.maxRssMB, 0)} MB`);
    await fs.rm(dir, { recursive: true, force: true });
  }
  {
    const n = 10000;
    const dir = await makeWorkspace(n);
    const m = await runCli(['test', dir, '--no-cache', '--concurrency', '16'], env);
    say(`memory      N=${n}  0 ms latency, no cache: ${fmt(m.wallMs / 1000, 2)} s wall, peak RSS ${fmt(m.maxRssMB, 0)} MB; target ≤ 1/3 of promptfoo's (~${fmt(pfRss10k, 0)} MB extrapolated → ≤ ${fmt(pfRss10k / 3, 0)} MB): ${verdict(m.maxRssMB <= pfRss10k / 3)}`);
    await fs.rm(dir, { recursive: true, force: true });
  }
  await server.close();

  // Latency-bound: N × latency ÷ concurrency is the floor; each run lasts about 8 s at the floor.
  server = await startFakeOpenAI({ keepRequests: false, latencyMs: 200 });
  const slow = { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'bench' };
  for (const concurrency of [4, 16, 64]) {
    const n = concurrency * 40;
    const dir = await makeWorkspace(n);
    const m = await runCli(['test', dir, '--no-cache', '--concurrency', String(concurrency)], slow);
    const limit = (n * 200) / concurrency;
    say(`latency     N=${String(n).padStart(4)}  200 ms latency, concurrency ${String(concurrency).padStart(2)}: ${fmt(m.wallMs / 1000, 2)} s wall vs ${fmt(limit / 1000, 2)} s floor = ${fmt(m.wallMs / limit, 3)}x; target ≤ 1.05x: ${verdict(m.wallMs / limit <= 1.05)} (promptfoo at 4/16/64: 1.24x/1.63x/6.2x)`);
    await fs.rm(dir, { recursive: true, force: true });
  }
  {
    // Fully cached re-run of the same cases: first run fills the cache, second is measured.
    const n = 1000;
    const dir = await makeWorkspace(n);
    await runCli(['test', dir, '--concurrency', '64'], slow);
    const before = server.count;
    const cached = await runCli(['test', dir, '--concurrency', '64'], slow);
    say(`cached      N=${n}  re-run from cache: ${fmt(cached.wallMs / 1000, 2)} s wall, ${fmt(n / (cached.wallMs / 1000), 0)} cases/s, ${server.count - before} calls, peak RSS ${fmt(cached.maxRssMB, 0)} MB`);
    await fs.rm(dir, { recursive: true, force: true });
  }
  {
    const dir = await makeWorkspace(1);
    await runCli(['test', dir], slow);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) times.push((await runCli(['test', dir], slow)).wallMs);
    times.sort((a, b) => a - b);
    say(`cold start  one cached case, whole CLI process: median ${fmt(times[2], 0)} ms (min ${fmt(times[0], 0)} ms, 5 runs); promptfoo: 1,900 ms`);
    await fs.rm(dir, { recursive: true, force: true });
  }
  await server.close();

  // Adaptive concurrency: a server that takes 20 requests at once and answers 429 to the rest.
  server = await startFakeOpenAI({ keepRequests: false, latencyMs: 50, maxInFlight: 20 });
  {
    const n = 1000;
    const dir = await makeWorkspace(n);
    const before = server.count;
    const m = await runCli(['test', dir, '--no-cache', '--concurrency', '64'], { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'bench' });
    const rejected = server.count - before - n;
    // The best a client can do is to know the limit: the same run at exactly 20, which gets no 429.
    const oracle = await runCli(['test', dir, '--no-cache', '--concurrency', '20'], { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'bench' });
    const floor = (n * 50) / 20;
    say(`429s        N=${n}  server takes 20 at once (50 ms), concurrency 64, adaptive: ${fmt(m.wallMs / 1000, 2)} s wall, ${rejected} requests answered 429, every case passed (exit ${m.exitCode}); told the limit (concurrency 20): ${fmt(oracle.wallMs / 1000, 2)} s → ${fmt(m.wallMs / oracle.wallMs, 2)}x of that (floor ${fmt(floor / 1000, 2)} s)`);
    await fs.rm(dir, { recursive: true, force: true });
  }
  await server.close();
  say('');
  await editorBench(say);
}

/** Editor figures, measured inside a real VS Code (the test harness); skipped when it is not installed. */
async function editorBench(say: (s: string) => void): Promise<void> {
  if (!harnessInstalled()) {
    say('editor      skipped: the VS Code harness is not installed (bash scripts/vscode-harness-setup.sh)');
    return;
  }
  const out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-editor-bench-')), 'figures.json');
  const wb = await launchWorkbench({ modelLatencyMs: 200, env: { PROMPTGATE_VSCODE_SUITE: 'bench', PROMPTGATE_VSCODE_BENCH: out } });
  try {
    const code = await runHostSuite(wb, 180_000, true);
    if (code !== 0) throw new Error(`the editor bench failed in the extension host (exit ${code})`);
    const f = JSON.parse(await fs.readFile(out, 'utf8')) as {
      activateMs: number;
      firstLoadMs: number;
      saveToLensCachedMs: number;
      saveToLensCachedAll: number[];
      saveToLensOneLiveCallMs: number;
      saveToLensOneLiveCallAll: number[];
      eventToUpdateCachedMs: number;
      eventToUpdateOneLiveCallMs: number;
    };
    say(`editor      code-server 4.100.3 (VS Code 1.100.3): activate() ${fmt(f.activateMs, 1)} ms; first parse of the workspace ${fmt(f.firstLoadMs, 1)} ms`);
    say(`            all cases cached: save event → lenses and diagnostics updated (the extension's part): median ${fmt(f.eventToUpdateCachedMs, 0)} ms (target ≤ 100 ms)`);
    say(`                              document.save() → updated lenses read back through VS Code: median ${fmt(f.saveToLensCachedMs, 0)} ms (${f.saveToLensCachedAll.map((x) => fmt(x, 0)).join(', ')})`);
    say(`            one case calls a 200 ms model: save event → updated: median ${fmt(f.eventToUpdateOneLiveCallMs, 0)} ms; document.save() → lenses read back: median ${fmt(f.saveToLensOneLiveCallMs, 0)} ms`);
  } finally {
    await wb.close();
    await fs.rm(path.dirname(out), { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
