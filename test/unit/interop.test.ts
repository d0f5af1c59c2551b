import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { interopAnthropic, interopOpenAI } from '../support/interop-model';
import { compareWithPromptfoo, interopEnv, type Comparison } from '../support/interop';
import { cli } from '../support/cli';
import { removeDir } from '../support/tmp';

const CORPUS = path.resolve(__dirname, '../fixtures/interop/promptfoo');
const OTHERS = ['prompty', 'github'].map((f) => path.resolve(__dirname, '../fixtures/interop', f));

/**
 * Third-party promptfoo configurations (test/fixtures/interop: sources and licences in SOURCES.md),
 * run unchanged by PromptGate against a deterministic local model, compared test by test with the
 * verdicts promptfoo 0.121.20 reached on the same files against the same model (recorded by
 * scripts/interop-record.ts).
 */
describe('interop: third-party promptfoo configs agree with promptfoo', function () {
  this.timeout(300_000);
  let openai: FakeOpenAI;
  let anthropic: FakeAnthropic;
  before(async () => {
    openai = await startFakeOpenAI({ respond: interopOpenAI, keepRequests: false });
    anthropic = await startFakeAnthropic({ respond: interopAnthropic });
  });
  after(async () => {
    await openai.close();
    await anthropic.close();
  });

  it('every config runs, and per-test pass/fail agrees with promptfoo on at least 95% of the tests both ran', async () => {
    const names = (await fs.readdir(CORPUS)).sort();
    assert.ok(names.length >= 10, `${names.length} configs`);
    const env = interopEnv(openai.baseURL, anthropic.baseURL);
    let compared = 0;
    let agreed = 0;
    const lines: string[] = [];
    for (const name of names) {
      const dir = path.join(CORPUS, name);
      const recorded = await fs.access(path.join(dir, 'promptfoo-verdicts.json')).then(() => true, () => false);
      const r: Comparison = await compareWithPromptfoo(dir, env, recorded);
      assert.ok(r.ran + r.skipped.length > 0, `${name}: no case`);
      compared += r.compared;
      agreed += r.agreed;
      lines.push(`${name}: ${r.ran} ran, ${r.skipped.length} skipped; ${r.agreed}/${r.compared} agree${r.promptfooErrored.length ? `; promptfoo errored on ${r.promptfooErrored.length}` : ''}`);
      for (const d of r.differences) lines.push(`  differs: PromptGate ${d.promptgate ? 'pass' : 'fail'}, promptfoo ${d.promptfoo ? 'pass' : 'fail'}: ${d.key.replace(/\n/g, ' | ').slice(0, 100)} (${d.reason?.slice(0, 160)})`);
    }
    const share = agreed / compared;
    assert.ok(compared >= 60, `only ${compared} tests compared\n${lines.join('\n')}`);
    assert.ok(share >= 0.95, `agreement ${(share * 100).toFixed(1)}% (${agreed}/${compared})\n${lines.join('\n')}`);
  });

  it('every Prompty and GitHub Models file runs as it is through the built CLI (exit 0 or 1, never 2)', async () => {
    const env = interopEnv(openai.baseURL, anthropic.baseURL);
    const outcomes: string[] = [];
    let files = 0;
    for (const folder of OTHERS) {
      for (const name of (await fs.readdir(folder)).sort()) {
        files++;
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-interop-'));
        try {
          await fs.copyFile(path.join(folder, name), path.join(dir, name));
          const r = await cli(['test', name, '--json', 'r.json'], dir, env);
          assert.ok(r.code === 0 || r.code === 1, `${path.basename(folder)}/${name} exited ${r.code}\n${r.stderr}\n${r.stdout.slice(0, 1500)}`);
          const report = await fs.readFile(path.join(dir, 'r.json'), 'utf8').then((t) => JSON.parse(t) as { cases: { verdict: { kind: string; passing: boolean } }[] }, () => undefined);
          outcomes.push(`${name}: exit ${r.code}, ${report ? report.cases.map((k) => k.verdict.kind).join(' ') : 'nothing to run'}`);
        } finally {
          await removeDir(dir);
        }
      }
    }
    assert.ok(files >= 20, `${files} files`);
    // A file without testData has nothing to run and says so; a Prompty file's sample is its one case.
    assert.ok(outcomes.some((o) => /^template_variables_prompt\.yml: exit 0, nothing to run$/.test(o)), outcomes.join('\n'));
    assert.ok(outcomes.some((o) => /^no_model\.prompty: exit 0, skipped$/.test(o)), outcomes.join('\n'));
    // A variable without a value renders empty (with a warning); the case still runs.
    assert.ok(outcomes.some((o) => /^shorthand_model_string\.prompty: exit 0, new$/.test(o)), outcomes.join('\n'));
    assert.ok(outcomes.some((o) => /^failing_test_prompt\.yml: exit 1, new new$/.test(o)), outcomes.join('\n'));
  });
});
