import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { filesUnder, removeDir, tmpProject } from '../support/tmp';
import { greetPrompt } from '../support/fixtures';
import { cli, type CliRun } from '../support/cli';

const KEY = 'sk-planted-7f3c9a1e5b2d4680aa11bb22cc33dd44';
const PROMPT = greetPrompt({ name: 'Greeter', bob: 'hello' });


describe('the API key never reaches a file or an output', function () {
  this.timeout(120_000);
  let server: FakeOpenAI;
  let dir: string;
  beforeEach(async () => {
    // The first call is refused with an error that echoes the key, as some servers do.
    server = await startFakeOpenAI({ fault: (n) => (n === 0 ? { kind: 'status', status: 401, message: 'Incorrect API key provided: {authorization}' } : undefined) });
    dir = await tmpProject({ 'greet.prompt.yml': PROMPT });
  });
  afterEach(async () => {
    await server.close();
    await removeDir(dir);
  });

  it('cache, runs, cassettes, reports, baselines, registry and exports hold no trace of it', async () => {
    const env = { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: KEY, PROMPTGATE_ACTOR: 'ann' };
    const runs: CliRun[] = [];
    const run = async (args: string[]) => {
      const r = await cli(args, dir, env);
      runs.push(r);
      return r;
    };
    const first = await run(['test', '--record', '--junit', 'report.xml', '--json', 'report.json', '--markdown', 'report.md']);
    assert.equal(first.code, 2, 'the refused key stopped the run');
    assert.match(first.stderr, /the API key was refused: HTTP 401: Incorrect API key provided: Bearer \[redacted key\]/);
    const second = await run(['test', '--record']);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.equal((await run(['test', '--samples', '2'])).code, 0, 'a live run with the cache');
    assert.equal((await run(['approve', '--top-up'])).code, 0);
    assert.equal((await run(['promote', 'greet.prompt.yml', '--label', 'production'])).code, 0);
    assert.equal((await run(['export', 'greet.prompt.yml', '--to', 'promptfoo', '-o', 'exported.yaml'])).code, 0);
    assert.equal((await run(['test', '--replay', '--reporter', 'github'])).code, 0);
    assert.ok(server.requests.every((r) => r.authorization === `Bearer ${KEY}`), 'the key was sent to the server');

    const written = await filesUnder(dir);
    for (const kind of ['cache', 'runs', 'cassettes', 'baselines', 'registry']) assert.ok(written.some((f) => f.includes(`${path.sep}${kind}${path.sep}`)), `${kind} files were written`);
    const forms = [KEY, Buffer.from(KEY).toString('base64'), KEY.slice(3, 30)];
    for (const f of written) {
      const text = await fs.readFile(f, 'latin1');
      for (const form of forms) assert.ok(!text.includes(form), `${path.relative(dir, f)} holds the key`);
    }
    for (const r of runs) for (const form of forms) assert.ok(!r.stdout.includes(form) && !r.stderr.includes(form), 'a command printed the key');
  });

  it('a key that comes back in an answer (text or tool call) is redacted before anything stores or prints it', async () => {
    const other = 'tok-other-secret-0123456789abcdef';
    await server.close();
    server = await startFakeOpenAI({
      respond: () => ({ content: `hello, my key is ${KEY} and the other is ${other}`, toolCalls: [{ name: 'leak', arguments: JSON.stringify({ key: KEY }) }] }),
    });
    const env = { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: KEY, SERVICE_TOKEN: other };
    const runs = [
      await cli(['test', '--record', '--json', 'report.json', '--junit', 'report.xml', '--markdown', 'report.md'], dir, env),
      await cli(['approve', '--top-up'], dir, env),
      await cli(['test', '--replay', '--reporter', 'json'], dir, env),
    ];
    for (const r of runs) assert.ok(r.code === 0 || r.code === 1, r.stderr);
    assert.match(await fs.readFile(path.join(dir, 'report.json'), 'utf8'), /hello, my key is \[redacted key\] and the other is \[redacted key\]/);
    const forms = [KEY, other, KEY.slice(3, 30)];
    for (const f of await filesUnder(dir)) {
      const text = await fs.readFile(f, 'latin1');
      for (const form of forms) assert.ok(!text.includes(form), `${path.relative(dir, f)} holds a key`);
    }
    for (const r of runs) for (const form of forms) assert.ok(!r.stdout.includes(form) && !r.stderr.includes(form), 'a command printed a key');
  });
});
