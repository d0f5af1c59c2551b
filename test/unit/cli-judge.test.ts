import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { startFakeOpenAI, type ChatBody, type FakeOpenAI } from '../support/fake-openai';
import { removeDir, tmpProject } from '../support/tmp';
import { cli } from '../support/cli';


const GEO = `model: gpt-4o-mini
messages:
  - role: user
    content: "Capital of {{ country }}?"
suites:
  geo:
    samples: 2
    cases:
      - name: france
        vars: { country: France }
        assert:
          - type: llm-rubric
            value: names Paris as the capital
            judge: { samples: 3 }
`;

describe('judges, model swap and budget (built CLI)', () => {
  let server: FakeOpenAI;
  let dir: string;
  let env: Record<string, string>;
  const judged = (b: ChatBody) => b.messages[0].content.startsWith('You grade the output');
  beforeEach(async () => {
    server = await startFakeOpenAI({
      respond: (b) => {
        if (judged(b)) {
          const ok = b.messages[1].content.includes('<output>\nParis');
          return { content: JSON.stringify({ reason: ok ? 'it names Paris' : 'it does not name Paris', pass: ok, score: ok ? 1 : 0 }) };
        }
        const last = b.messages.at(-1)!.content;
        if (last.includes('expensive')) return { content: 'costly answer', usage: { prompt_tokens: 10, completion_tokens: 200_000 } };
        return { content: last.includes('France') ? 'Paris' : 'Rome' };
      },
    });
    env = { OPENAI_BASE_URL: server.baseURL };
    dir = await tmpProject({ 'geo.prompt.yml': GEO });
  });
  afterEach(async () => {
    await server.close();
    await removeDir(dir);
  });

  const modelsSeen = () => server.requests.filter((r) => !judged(r.body)).map((r) => r.body.model);

  it('grades with a judge asked k times, shows agreement, and --rejudge calls only the judge', async () => {
    const r = await cli(['test', '--reporter', 'json'], dir, env);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    const a = report.results[0].assertions[0];
    assert.equal(a.type, 'llm-rubric');
    assert.deepEqual(a.judge, { samples: 3, agreement: 1, scores: [1, 1, 1] });
    // Both samples answer "Paris": the same question to the judge, asked three times once, however the calls interleave.
    assert.equal(server.requests.filter((x) => judged(x.body)).length, 3, 'identical outputs share the three judge answers');
    assert.equal(modelsSeen().length, 2);
    assert.equal(report.judge.calls, 3, 'judge calls are counted in the run');
    assert.ok(report.judge.usd > 0);

    const before = modelsSeen().length;
    const re = await cli(['test', '--rejudge'], dir, env);
    assert.equal(re.code, 0, re.stdout + re.stderr);
    assert.equal(modelsSeen().length, before, 'no model call');
    // --rejudge skips the cache on purpose, so each sample is judged afresh: 3 + 2 × 3.
    assert.equal(server.requests.filter((x) => judged(x.body)).length, 9, 'the judge was asked again');
  });

  it('--model runs every prompt with another model, compared with the approved baseline', async () => {
    await cli(['test', '--samples', '1'], dir, env);
    // The suite fixes 2 samples: the one-sample run is topped up before it is approved.
    assert.equal((await cli(['approve', '--top-up'], dir, env)).code, 0);
    const r = await cli(['test', '--samples', '1', '--model', 'gpt-4.1-mini'], dir, env);
    assert.equal(r.code, 0, r.stdout);
    assert.equal(modelsSeen().at(-1), 'gpt-4.1-mini');
    assert.match(r.stdout, /geo\s+gpt-4\.1-mini\s+1\s+1\s+1/);
    assert.match(r.stdout, /The prompt changed since these baselines were approved/);
  });

  it('a suite listing models runs each case per model, side by side', async () => {
    await fs.writeFile(path.join(dir, 'geo.prompt.yml'), GEO.replace('    samples: 2\n', '    samples: 1\n    models: [gpt-4o-mini, gpt-4.1-nano]\n'));
    const r = await cli(['test', '--reporter', 'json'], dir, env);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.cases.map((c: { id: string }) => c.id), ['geo.prompt.yml::geo::france@gpt-4o-mini', 'geo.prompt.yml::geo::france@gpt-4.1-nano']);
    assert.deepEqual(modelsSeen().sort(), ['gpt-4.1-nano', 'gpt-4o-mini']);
  });

  it('--budget refuses a run estimated above it, and stops a run cleanly when it is spent', async () => {
    const refused = await cli(['test', '--budget', '0.000001'], dir, env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /the run would cost about \$0\.\d+ \(2 calls\), over the --budget of \$0\.000001; nothing was run/);
    assert.equal(server.count, 0);

    const cases = Array.from({ length: 6 }, (_, i) => `      - name: c${i}\n        vars: { q: "expensive ${i}" }\n        assert:\n          - type: contains\n            value: answer`).join('\n');
    await fs.writeFile(path.join(dir, 'cost.prompt.yml'), `model: gpt-4o-mini\nmodelParameters: { maxTokens: 1 }\nmessages:\n  - role: user\n    content: "{{ q }}"\nsuites:\n  s:\n    cases:\n${cases}\n`);
    const stopped = await cli(['test', 'cost.prompt.yml', '--budget', '0.1', '--concurrency', '1', '--junit', 'j.xml'], dir, env);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /budget: \$0\.12\d+ spent, the --budget of \$0\.1 is reached; stopping/);
    assert.match(stopped.stdout, /1 passed, 0 failed, 0 errored, 5 skipped/);
    await fs.access(path.join(dir, 'j.xml'));
  });
});
