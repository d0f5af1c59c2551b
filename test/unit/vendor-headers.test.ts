import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import OpenAI from 'openai';
import { LightHeaders } from '../../scripts/vendor/headers';

// The built CLI's openai SDK uses LightHeaders instead of undici's Headers (scripts/build.mjs).
type AnyHeaders = Headers | LightHeaders;
const both = (init?: [string, string][] | Record<string, string>): [Headers, LightHeaders] => [new Headers(init), new LightHeaders(init)];
const view = (h: AnyHeaders) => ({ entries: [...h.entries()], keys: [...h.keys()], values: [...h.values()], cookies: h.getSetCookie() });
/** Runs `op` on both; they must both throw a TypeError or both give the same answer and contents. */
function same(label: string, [undici, light]: [Headers, LightHeaders], op: (h: AnyHeaders) => unknown) {
  const run = (h: AnyHeaders) => {
    try {
      return { value: op(h), contents: view(h) };
    } catch (err) {
      return { threw: (err as Error).constructor.name };
    }
  };
  assert.deepEqual(run(light), run(undici), label);
}

describe('the light Headers of the built SDK', () => {
  it('keeps undici\'s rules: case, order, joining, whitespace, set-cookie', () => {
    const pair = both();
    same('append', pair, (h) => h.append('X-B', ' two '));
    same('append again joins', pair, (h) => h.append('x-b', 'three'));
    same('listed sorted, lower-cased', pair, (h) => h.append('Authorization', 'Bearer k'));
    same('get any case', pair, (h) => h.get('X-b'));
    same('has', pair, (h) => h.has('AUTHORIZATION'));
    same('set replaces', pair, (h) => h.set('x-b', 'one'));
    same('set-cookie stays apart', pair, (h) => {
      h.append('Set-Cookie', 'a=1');
      h.append('set-cookie', 'b=2');
      return h.get('set-cookie');
    });
    same('delete', pair, (h) => h.delete('authorization'));
    same('missing', pair, (h) => [h.get('nope'), h.has('nope')]);
    same('tabs and newlines around a value', pair, (h) => h.set('x-c', '\t v \r\n'));
    const seen: [string, string][][] = pair.map((h) => {
      const out: [string, string][] = [];
      h.forEach((v, k) => out.push([k, v]));
      return out;
    });
    assert.deepEqual(seen[1], seen[0], 'forEach');
  });

  it('refuses what undici refuses', () => {
    for (const [name, value] of [['bad name', 'v'], ['a:b', 'v'], ['', 'v'], ['x', 'a\nb'], ['x', 'a\rb'], ['x', 'a\0b'], ['x', 'caf\u00e9\u2603']]) {
      same(`append ${JSON.stringify(name)}: ${JSON.stringify(value)}`, both(), (h) => h.append(name, value));
      same(`set ${JSON.stringify(name)}`, both(), (h) => h.set(name, value));
    }
    same('get with a bad name', both(), (h) => h.get('bad name'));
  });

  it('takes a record, pairs or another Headers, as undici does', () => {
    same('record', both({ 'X-A': '1', b: '2' }), (h) => h.get('x-a'));
    same('pairs', both([['x-a', '1'], ['X-A', '2']]), (h) => h.get('x-a'));
    assert.deepEqual(view(new LightHeaders(new LightHeaders({ a: '1', 'set-cookie': 'c=1' }))), view(new Headers({ a: '1', 'set-cookie': 'c=1' })));
    assert.throws(() => new LightHeaders([['a', '1', '2'] as unknown as [string, string]]), TypeError);
  });

  it('gives the built SDK the same request headers as the SDK itself, without loading undici', function () {
    this.timeout(30_000);
    const built = path.resolve(__dirname, '../../dist/vendor/openai.js');
    const options = { apiKey: 'sk-test-key', baseURL: 'http://127.0.0.1:9/v1', organization: 'org-1', project: 'proj-1', maxRetries: 0, timeout: 1234 };
    // As the provider asks (src/core/providers/openai.ts): the body is sent per call.
    const request = { method: 'post', path: '/chat/completions', body: undefined } as const;
    // In a fresh process: the built SDK's headers, and whether undici was loaded to make them.
    const code = `const OpenAI = require(${JSON.stringify(built)}).default;
      new OpenAI(${JSON.stringify(options)}).buildRequest({ method: 'post', path: '/chat/completions', body: undefined }).then(({ req, url }) => {
        const headers = {};
        req.headers.forEach((v, k) => (headers[k] = v));
        const undici = process.moduleLoadList.some((m) => m.includes('undici'));
        console.log(JSON.stringify({ url, headers, undici }));
      });`;
    const child = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const fromBuilt = JSON.parse(child.stdout) as { url: string; headers: Record<string, string>; undici: boolean };
    assert.equal(fromBuilt.undici, false, 'building the first request loaded undici');
    return new OpenAI(options).buildRequest(request).then(({ req, url }) => {
      const headers: Record<string, string> = {};
      (req.headers as Headers).forEach((v, k) => (headers[k] = v));
      assert.equal(fromBuilt.url, url);
      assert.deepEqual(fromBuilt.headers, headers);
      assert.equal(headers.authorization, 'Bearer sk-test-key');
      assert.equal(headers['content-type'], 'application/json');
    });
  });
});
