/**
 * Records promptfoo's own per-test verdicts on the interop corpus (test/fixtures/interop/promptfoo),
 * so that `npm test` compares PromptGate's with them without installing promptfoo. Both run against
 * the same deterministic local model (test/support/interop-model.ts), OpenAI-compatible and
 * Anthropic fakes on 127.0.0.1.
 *
 *   npx tsx scripts/interop-record.ts [--promptfoo PATH_TO_ENTRYPOINT] [NAME…]
 *
 * promptfoo 0.121.20 (the newest that runs on Node 20) is installed apart from this project, as the
 * benchmark does: `npm install promptfoo@0.121.20` in a folder of its own, then pass its
 * `node_modules/promptfoo/dist/src/entrypoint.js`. Each config's verdicts go to
 * `promptfoo-verdicts.json` beside it.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { spawn } from 'node:child_process';
import { startFakeOpenAI } from '../test/support/fake-openai';
import { startFakeAnthropic } from '../test/support/fake-anthropic';
import { interopAnthropic, interopOpenAI } from '../test/support/interop-model';
import { interopEnv, type RecordedVerdict } from '../test/support/interop';

const CORPUS = path.resolve(__dirname, '../test/fixtures/interop/promptfoo');

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--promptfoo');
  const entry = at >= 0 ? args.splice(at, 2)[1] : path.join(os.tmpdir(), 'pf', 'node_modules', 'promptfoo', 'dist', 'src', 'entrypoint.js');
  const names = args.length ? args : (await fs.readdir(CORPUS)).sort();
  const openai = await startFakeOpenAI({ respond: interopOpenAI, keepRequests: false });
  const anthropic = await startFakeAnthropic({ respond: interopAnthropic });
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'interop-promptfoo-home-'));
  try {
    for (const name of names) {
      const dir = path.join(CORPUS, name);
      const config = (await fs.readdir(dir)).find((f) => /^promptfooconfig\.ya?ml$/.test(f));
      if (!config) continue;
      const out = path.join(home, `${name}.json`);
      const code = await new Promise<number>((resolve) => {
        const child = spawn(process.execPath, [entry, 'eval', '-c', config, '-o', out, '--no-cache', '--no-progress-bar', '--no-table', '-j', '4'], {
          cwd: dir,
          stdio: ['ignore', 'ignore', 'pipe'],
          env: { ...process.env, ...interopEnv(openai.baseURL, anthropic.baseURL), HOME: home, PROMPTFOO_CONFIG_DIR: path.join(home, '.promptfoo'), PROMPTFOO_DISABLE_TELEMETRY: '1', PROMPTFOO_DISABLE_UPDATE: '1' },
        });
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('close', (c) => {
          if (c !== 0 && c !== 100) process.stderr.write(`${name}: promptfoo exited ${c}\n${err.slice(-2000)}\n`);
          resolve(c ?? 1);
        });
      });
      let results: { provider: { id: string; label?: string }; prompt: { raw: string; label: string }; vars: Record<string, unknown>; success: boolean; error?: string; failureReason?: number; testCase?: { description?: string } }[];
      try {
        results = (JSON.parse(await fs.readFile(out, 'utf8')) as { results: { results: typeof results } }).results.results;
      } catch (e) {
        process.stdout.write(`${name}: no results (promptfoo exited ${code}): ${(e as Error).message}\n`);
        continue;
      }
      const verdicts: RecordedVerdict[] = results.map((r) => ({ provider: r.provider.id, prompt: r.prompt.raw, vars: r.vars, description: r.testCase?.description, pass: r.success, ...(r.failureReason === 2 ? { errored: true } : {}), ...(r.error ? { error: r.error.slice(0, 300) } : {}) }));
      await fs.writeFile(path.join(dir, 'promptfoo-verdicts.json'), `${JSON.stringify({ promptfoo: '0.121.20', verdicts }, null, 2)}\n`);
      process.stdout.write(`${name}: ${verdicts.length} tests, ${verdicts.filter((v) => v.pass).length} pass (promptfoo exited ${code})\n`);
    }
  } finally {
    await openai.close();
    await anthropic.close();
    await fs.rm(home, { recursive: true, force: true });
  }
}

void main();
