import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { removeDir, tmpProject } from '../support/tmp';
import { cli } from '../support/cli';


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
          - type: contains
            value: Ann
          - type: icontains
            value: hello
      - name: bob
        vars: { who: Bob }
        assert:
          - type: icontains
            value: bob
`;

describe('approve, verdicts, diff and reports (built CLI)', () => {
  let server: FakeOpenAI;
  let dir: string;
  let env: Record<string, string>;
  beforeEach(async () => {
    server = await startFakeOpenAI({});
    env = { OPENAI_BASE_URL: server.baseURL };
    dir = await tmpProject({ 'greet.prompt.yml': PROMPT });
  });
  afterEach(async () => {
    await server.close();
    await removeDir(dir);
  });

  it('approve writes a canonical baseline; a prompt edit that breaks a case is a significant regression with its diff', async () => {
    const early = await cli(['approve'], dir, env);
    assert.equal(early.code, 1);
    assert.match(early.stderr, /not approved: greet\.prompt\.yml::golden::ann: no recorded run: run promptgate test first/);
    assert.equal((await cli(['test'], dir, env)).code, 0);
    const approve = await cli(['approve'], dir, env);
    assert.equal(approve.code, 0, approve.stderr);
    assert.match(approve.stdout, /approved 2 cases of greet\.prompt\.yml › golden {2}\.promptgate\/baselines\/greet\.prompt\.yml\/golden\.json/);
    const file = path.join(dir, '.promptgate/baselines/greet.prompt.yml/golden.json');
    const text = await fs.readFile(file, 'utf8');
    const baseline = JSON.parse(text);
    assert.equal(text, `${JSON.stringify(sortDeep(baseline), null, 2)}\n`, 'sorted keys, two-space indent');
    assert.equal(baseline.cases['greet.prompt.yml::golden::ann'].total, 5);
    assert.ok(!/\d{4}-\d{2}-\d{2}T/.test(text), 'no timestamps');

    const same = await cli(['test'], dir, env);
    assert.equal(same.code, 0);
    assert.match(same.stdout, /verdicts: 2 pass — gate passed/);

    await fs.writeFile(path.join(dir, 'greet.prompt.yml'), PROMPT.replace('Say hello', 'Say hi'));
    const r = await cli(['test', '--junit', 'junit.xml', '--markdown', 'summary.md'], dir, env);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /REGRESSED greet\.prompt\.yml › golden › ann {2}greet\.prompt\.yml:10\n {5}pass rate 100% \(5\/5\) → 0% \(0\/5\); p = 9\.8e-4 ≤ 0\.025 \(Benjamini–Hochberg: 0\.05 × 1 \/ 2 cases\); driver: icontains \(deterministic\) 100% → 0%; baseline is for content hash [0-9a-f]{12}/);
    assert.match(r.stdout, /echo: Say \[-hello-\]\{\+hi\+\} to Ann, politely/);
    assert.match(r.stdout, /verdicts: 1 pass, 1 regressed — gate failed/);

    const junit = new XMLParser({ ignoreAttributes: false }).parse(await fs.readFile(path.join(dir, 'junit.xml'), 'utf8'));
    const ann = junit.testsuites.testsuite.testcase.find((t: Record<string, string>) => t['@_name'] === 'ann');
    assert.equal(ann.failure['@_type'], 'regression');
    assert.match(ann.failure['@_message'], /Say \[-hello-\]\{\+hi\+\} to Ann/);

    const md = await fs.readFile(path.join(dir, 'summary.md'), 'utf8');
    assert.match(md, /^## PromptGate: ❌ gate failed$/m);
    assert.match(md, /^\| greet\.prompt\.yml › golden › ann \| 100% \(5\/5\) \| 0% \(0\/5\) \| p = 9\.8e-4 ≤ 0\.025 \(Benjamini–Hochberg: 0\.05 × 1 \/ 2 cases\) \| icontains \(deterministic\) 100% → 0% \|  \|$/m);

    const diff = await cli(['diff'], dir, env);
    assert.equal(diff.code, 0);
    assert.match(diff.stdout, /^REGRESSED greet\.prompt\.yml › golden › ann/m);
    assert.match(diff.stdout, /2 of 2 compared cases changed/);
    assert.equal(server.count, 20, 'diff ran nothing');
  });

  it('approve --case updates one case; approving after an edit requires a new run', async () => {
    await cli(['test'], dir, env);
    await cli(['approve'], dir, env);
    await fs.writeFile(path.join(dir, 'greet.prompt.yml'), PROMPT.replace('Say hello', 'Say hi'));
    const stale = await cli(['approve', '--case', 'ann'], dir, env);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /not approved: greet\.prompt\.yml::golden::ann: the prompt changed since its last run/);
    await cli(['test'], dir, env);
    const one = await cli(['approve', '--case', 'ann'], dir, env);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /approved 1 case of greet\.prompt\.yml › golden/);
    const after = await cli(['test'], dir, env);
    assert.equal(after.code, 0, after.stdout);
    assert.match(after.stdout, /verdicts: 1 fail, 1 pass|verdicts: 1 pass, 1 fail/);
    assert.equal((await cli(['approve', '--case', 'nobody'], dir, env)).code, 2);
  });

  it('reports removed cases and drops them on a whole-suite approve', async () => {
    await cli(['test'], dir, env);
    await cli(['approve'], dir, env);
    await fs.writeFile(path.join(dir, 'greet.prompt.yml'), PROMPT.replace(/      - name: bob[\s\S]*$/, ''));
    const r = await cli(['test'], dir, env);
    assert.match(r.stdout, /1 approved case is no longer in the files \(removed\): greet\.prompt\.yml::golden::bob/);
    assert.match(r.stdout, /verdicts: 1 pass, 1 removed/);
    const a = await cli(['approve'], dir, env);
    assert.match(a.stdout, /dropped 1 removed case/);
  });

  it('a corrupt or hand-edited baseline is a located error, never a crash', async () => {
    await cli(['test'], dir, env);
    await cli(['approve'], dir, env);
    const file = path.join(dir, '.promptgate/baselines/greet.prompt.yml/golden.json');
    const good = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, good.replace('"passed": 5', '"passed": 4'));
    const edited = await cli(['test'], dir, env);
    assert.equal(edited.code, 2);
    assert.match(edited.stderr, /^error: \.promptgate\/baselines\/greet\.prompt\.yml\/golden\.json:\d+:\d+: baseline: passed is 4 but 5 samples pass/m);
    await fs.writeFile(file, good.slice(0, 200));
    const cut = await cli(['test'], dir, env);
    assert.equal(cut.code, 2);
    assert.match(cut.stderr, /golden\.json:\d+:\d+: YAML: /);
    const approveOver = await cli(['approve'], dir, env);
    assert.equal(approveOver.code, 2);
    assert.match(approveOver.stderr, /fix the file or delete it/);
  });

  it('approve refuses a one-sample run as a baseline and names the command; --top-up samples it to strength; drift and the cache are reported', async () => {
    let served = 'gpt-4o-mini';
    await server.close();
    server = await startFakeOpenAI({ respond: (body) => ({ content: `echo: ${body.messages.at(-1)!.content}`, model: served, fingerprint: 'fp_1' }) });
    env = { OPENAI_BASE_URL: server.baseURL };
    await fs.writeFile(path.join(dir, 'greet.prompt.yml'), PROMPT.replace('    samples: 5\n', ''));
    assert.equal((await cli(['test'], dir, env)).code, 0);
    assert.equal(server.count, 2, 'one sample per case');
    const thin = await cli(['approve'], dir, env);
    assert.equal(thin.code, 1);
    assert.match(thin.stderr, /not approved: greet\.prompt\.yml::golden::ann: too thin for a baseline \(1\/1 samples; a baseline needs 20 agreeing\)/);
    assert.match(thin.stderr, /run promptgate approve --top-up to sample them and approve/);
    await assert.rejects(fs.stat(path.join(dir, '.promptgate/baselines/greet.prompt.yml/golden.json')));

    const topped = await cli(['approve', '--top-up'], dir, env);
    assert.equal(topped.code, 0, topped.stderr);
    assert.match(topped.stdout, /approved 2 cases of greet\.prompt\.yml › golden/);
    assert.equal(server.count, 40, 'a baseline run of 20 samples per case, the first of each from the cache');
    const baseline = JSON.parse(await fs.readFile(path.join(dir, '.promptgate/baselines/greet.prompt.yml/golden.json'), 'utf8'));
    assert.equal(baseline.cases['greet.prompt.yml::golden::ann'].total, 20);
    assert.equal(baseline.cases['greet.prompt.yml::golden::ann'].samples[0].model, 'gpt-4o-mini');

    // The provider moves the alias to a new snapshot. A cached run cannot see it, and says so.
    served = 'gpt-4o-mini-2026-11-30';
    const cached = await cli(['test', '--markdown', 'cached.md'], dir, env);
    assert.equal(cached.code, 0);
    assert.equal(server.count, 40);
    assert.match(cached.stdout, /2 of 2 verdicts rest on cached answers \(2 entirely\)/);
    assert.match(await fs.readFile(path.join(dir, 'cached.md'), 'utf8'), /> ⚠️ 2 of 2 verdicts rest on cached answers/);
    const fresh = await cli(['test', '--no-cache', '--json', 'r.json', '--reporter', 'github'], dir, env);
    assert.equal(fresh.code, 0, 'drift is shown, not blocking');
    assert.match(fresh.stdout, /::warning file=greet\.prompt\.yml,line=9,title=PromptGate model drift%3A greet\.prompt\.yml › golden › ann::model changed since the baseline: gpt-4o-mini → gpt-4o-mini-2026-11-30/);
    const json = JSON.parse(await fs.readFile(path.join(dir, 'r.json'), 'utf8'));
    assert.deepEqual(json.cases[0].drift, { kind: 'model', before: ['gpt-4o-mini'], after: ['gpt-4o-mini-2026-11-30'] });
    assert.equal(json.cases[0].cached, 0);
    assert.equal(json.results[0].servedModel, 'gpt-4o-mini-2026-11-30');
    assert.equal(json.results[0].fingerprint, 'fp_1');
  });

  it('--samples auto samples until clear, and --samples on a cached run costs nothing', async () => {
    const first = await cli(['test', '--samples', 'auto'], dir, env);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(server.count, 40, 'no baseline: 20 agreeing samples per case');
    await cli(['approve'], dir, env);
    const again = await cli(['test', '--samples', 'auto'], dir, env);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /verdicts: 2 pass/);
    assert.equal(server.count, 40, 'the samples it needed were cached');
    assert.equal((await cli(['test', '--samples', 'lots'], dir, env)).code, 2);
  });
});

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]));
  return v;
}
