import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { spawn } from 'node:child_process';
import { startFakeBatch, type FakeBatch } from '../support/fake-batch';
import { removeDir, tmpProject } from '../support/tmp';
import { CLI, cli } from '../support/cli';
import { AZURE_API_VERSION } from '../../src/core/providers/openai';

const cases = Array.from({ length: 6 }, (_, i) => `      - { name: c${i}, vars: { who: "person ${i}" } }`).join('\n');
const PROMPT = `name: Greeter
model: gpt-4o-mini
messages:
  - role: user
    content: "Say hello to {{ who }}"
suites:
  golden:
    samples: 2
    assert:
      - type: icontains
        value: hello
    cases:
${cases}
`;

type Report = { summary: { cost: number; passed: number; errored: number }; results: { name: string; status: string; cost?: number; error?: { message: string } }[] };

describe('--batch: the run through the Batch API (built CLI, local fake of the files and batches endpoints)', function () {
  this.timeout(60_000);
  let fake: FakeBatch;
  let dir: string;
  let env: Record<string, string>;
  beforeEach(async () => {
    fake = await startFakeBatch((b) => `Hello ${b.messages.at(-1)!.content.replace('Say hello to ', '')}!`);
    env = { OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: 'sk-test' };
    dir = await tmpProject({ 'greet.prompt.yml': PROMPT });
  });
  afterEach(async () => {
    await fake.close();
    await removeDir(dir);
  });

  const report = async (file: string): Promise<Report> => JSON.parse(await fs.readFile(path.join(dir, file), 'utf8'));

  it('sends every call in one batch, polls it, grades the answers as usual and records half the cost', async () => {
    const live = await cli(['test', '--no-cache', '--json', 'live.json'], dir, env);
    assert.equal(live.code, 0, live.stderr);
    assert.equal(fake.counts.chats, 12);
    const r = await cli(['test', '--no-cache', '--batch', '--batch-poll', '0.01', '--json', 'batch.json'], dir, env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([fake.counts.uploads, fake.counts.creates, fake.counts.chats], [1, 1, 12], 'one file, one batch, no direct call');
    assert.match(r.stderr, /batch batch_1: validating[\s\S]*batch batch_1: completed \(12\/12 done\)/);
    const [a, b] = [await report('live.json'), await report('batch.json')];
    assert.equal(b.summary.passed, 12);
    assert.ok(a.summary.cost > 0);
    assert.ok(Math.abs(b.summary.cost - a.summary.cost / 2) < 1e-12, `${b.summary.cost} is half of ${a.summary.cost}`);
    // The answers were kept: a second run reads them from the cache, not from a new batch.
    const again = await cli(['test', '--batch', '--batch-poll', '0.01'], dir, env);
    assert.equal(again.code, 0);
    assert.equal(fake.counts.creates, 1);
  });

  it('a request the batch failed is an errored sample with the reason; the others are graded', async () => {
    fake.fails = (body) => body.messages.at(-1)!.content.endsWith('person 3');
    const r = await cli(['test', '--no-cache', '--batch', '--batch-poll', '0.01', '--json', 'r.json'], dir, env);
    assert.equal(r.code, 1, 'an errored case blocks the gate');
    const rep = await report('r.json');
    assert.equal(rep.summary.passed, 10);
    const failed = rep.results.filter((x) => x.status === 'errored');
    assert.deepEqual(failed.map((x) => x.name), ['c3', 'c3']);
    assert.match(failed[0].error!.message, /batch batch_1: The server had an error processing your request\./);
  });

  it('a batch that expires answers what it finished; the rest are errored as expired', async () => {
    fake.expire = true;
    const r = await cli(['test', '--no-cache', '--batch', '--batch-poll', '0.01', '--json', 'r.json'], dir, env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /batch batch_1: expired \(6\/12 done, 6 failed\)/);
    const rep = await report('r.json');
    assert.equal(rep.summary.passed, 6);
    assert.equal(rep.summary.errored, 6);
    assert.ok(rep.results.filter((x) => x.status === 'errored').every((x) => /the batch expired before this request was answered/.test(x.error!.message)));
  });

  it('a run killed while it waits resumes the same batch: nothing is sent or paid twice', async () => {
    fake.hold = true;
    const child = spawn(process.execPath, [CLI, 'test', '--no-cache', '--batch', '--batch-poll', '0.01'], { cwd: dir, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    // Wait for the batch to be in the ledger and polled, then kill the process.
    const ledger = path.join(dir, '.promptgate/batches/batches.json');
    for (const end = Date.now() + 30_000; Date.now() < end && !(fake.counts.retrieves >= 3 && (await fs.stat(ledger).catch(() => undefined))); ) await new Promise((r) => setTimeout(r, 10));
    assert.ok(fake.counts.retrieves >= 3, 'the batch was polled');
    child.kill('SIGKILL');
    await exited;
    assert.deepEqual(JSON.parse(await fs.readFile(ledger, 'utf8')).batches.map((b: { id: string; keys: string[] }) => [b.id, b.keys.length]), [['batch_1', 12]]);
    fake.hold = false;
    const r = await cli(['test', '--no-cache', '--batch', '--batch-poll', '0.01', '--json', 'r.json'], dir, env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([fake.counts.uploads, fake.counts.creates, fake.counts.chats], [1, 1, 0], 'the same batch, picked up again');
    assert.equal((await report('r.json')).summary.passed, 12);
  });

  it("runs through Azure OpenAI's batch endpoints as well: their paths, api-version and key, /chat/completions in every line", async () => {
    await fs.writeFile(path.join(dir, 'greet.prompt.yml'), PROMPT.replace('model: gpt-4o-mini', 'model: azure:chat:gpt-4o-mini'));
    const azure = { AZURE_OPENAI_ENDPOINT: fake.baseURL.replace(/\/v1$/, ''), AZURE_OPENAI_API_KEY: 'azure-key-123456' };
    const r = await cli(['test', '--no-cache', '--batch', '--batch-poll', '0.01', '--json', 'r.json'], dir, azure);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual([fake.counts.uploads, fake.counts.creates, fake.counts.chats], [1, 1, 0], 'one file, one batch, no direct call');
    assert.deepEqual([fake.azure.apiVersion, fake.azure.key], [AZURE_API_VERSION, 'azure-key-123456']);
    assert.ok(fake.azure.requests >= 4, 'upload, create, polls and the answers all went to the Azure paths');
    const rep = await report('r.json');
    assert.equal(rep.summary.passed, 12);
    assert.ok(rep.results.every((x) => x.cost !== undefined && x.cost > 0), 'priced, at the batch rate');
  });

  it('refuses what a batch cannot do, and says why', async () => {
    const replay = await cli(['test', '--batch', '--replay'], dir, env);
    assert.equal(replay.code, 2);
    assert.match(replay.stderr, /--batch sends live calls; it goes with neither --replay nor --record/);
    await fs.mkdir(path.join(dir, '.promptgate/batches'), { recursive: true });
    await fs.writeFile(path.join(dir, '.promptgate/batches/batches.json'), '{"batches": [');
    const broken = await cli(['test', '--no-cache', '--batch', '--batch-poll', '0.01'], dir, env);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout + broken.stderr, /batches\.json does not parse .*restore it, or delete it to send new batches/);
  });
});
