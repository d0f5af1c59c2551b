import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { loadProject } from '../../src/core';
import { removeDir } from '../support/tmp';
import { cli } from '../support/cli';

const EXAMPLES = path.resolve(__dirname, '../../examples');
const PROMPTS = ['support-reply.prompt.yml', 'extract-order.prompt.yml', 'summarize.prompt.yml', 'banking77/intent.prompt.yml'];

interface JsonCase {
  name: string;
  suite: string;
  verdict: { passing: boolean; current: { passed: number; total: number } };
}

describe('export to promptfoo and Prompty, round-tripped on the examples', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-export-'));
    await fs.cp(EXAMPLES, dir, { recursive: true });
  });
  after(() => removeDir(dir));

  for (const prompt of PROMPTS) {
    it(`${prompt} → promptfoo: the same requests, and every golden case passes or fails as before (from the same cassettes)`, async () => {
      const out = prompt.replace(/\.prompt\.yml$/, '.promptfoo.yaml');
      const exp = await cli(['export', prompt, '--to', 'promptfoo', '--out', out], dir);
      assert.equal(exp.code, 0, exp.stderr);
      // The requests are identical, so the recorded answers replay for the exported file too.
      const original = await cli(['test', prompt, '--replay', '--json', 'orig.json'], dir);
      const exported = await cli(['test', out, '--replay', '--json', 'exp.json'], dir);
      assert.equal(exported.code, 0, exported.stdout + exported.stderr);
      const read = async (f: string) => (JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')) as { cases: JsonCase[] }).cases;
      const before = (await read('orig.json')).filter((c) => c.suite !== 'attacks');
      const after = await read('exp.json');
      assert.equal(after.length, before.length);
      for (const c of before) {
        const e = after.find((x) => x.name === c.name);
        assert.ok(e, `${c.name} exported`);
        assert.equal(e.verdict.passing, c.verdict.passing, c.name);
        assert.deepEqual(e.verdict.current, c.verdict.current, c.name);
      }
      assert.equal(original.code, 0);
    });

    it(`${prompt} → Prompty: the same prompt, model, parameters and first case`, async () => {
      const out = prompt.replace(/\.prompt\.yml$/, '.prompty');
      const exp = await cli(['export', prompt, '--to', 'prompty', '--out', out], dir);
      assert.equal(exp.code, 0, exp.stderr);
      const a = await loadProject({ root: dir, paths: [path.join(dir, prompt)] });
      const b = await loadProject({ root: dir, paths: [path.join(dir, out)] });
      assert.deepEqual(b.diagnostics.filter((d) => d.severity === 'error'), []);
      const first = a.cases.find((c) => c.suiteKind === 'golden')!;
      const sample = b.cases[0];
      assert.equal(sample.suite, 'sample');
      // Prompty trims each message; everything else is identical.
      assert.deepEqual(sample.request.messages, first.request.messages.map((m) => ({ ...m, content: m.content.trim() })));
      const { messages: _a, ...restA } = first.request;
      const { messages: _b, ...restB } = sample.request;
      assert.deepEqual(restB, restA);
    });
  }

  it('says what it leaves out, and will not overwrite a file unless told', async () => {
    const r = await cli(['export', 'support-reply.prompt.yml', '--to', 'promptfoo', '--out', 'support-reply.promptfoo.yaml'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /support-reply\.promptfoo\.yaml exists; pass --force/);
    const p = await cli(['export', 'support-reply.prompt.yml', '--to', 'promptfoo'], dir);
    assert.match(p.stderr, /not exported: adversarial suite 'attacks'/);
    assert.match(p.stdout, /^# Not exported: adversarial suite 'attacks'/m);
  });
});
