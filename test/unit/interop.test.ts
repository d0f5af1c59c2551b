import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { interopAnthropic, interopOpenAI } from '../support/interop-model';
import { compareWithPromptfoo, interopEnv, type Comparison } from '../support/interop';

const CORPUS = path.resolve(__dirname, '../fixtures/interop/promptfoo');

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
});
