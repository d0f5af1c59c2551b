import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { PLAIN_MARKS, jsonDiff, normalizeOutput, outputDiff, outputsEqual, renderDiff, wordDiff } from '../../src/core';

const FIXTURES = path.resolve(__dirname, '../fixtures/diffs');

describe('normalizers', () => {
  it('fold whitespace, UUIDs, timestamps and dates, and JSON key order', () => {
    assert.equal(normalizeOutput('  a \n\n b\t', ['whitespace']), 'a b');
    assert.equal(normalizeOutput('id 123E4567-e89b-12d3-a456-426614174000.', ['uuid']), 'id <uuid>.');
    assert.equal(
      normalizeOutput('at 2024-01-02T10:00:00Z, on 2024-01-02, 3/4/2025, March 5, 2025 and 10:30 pm', ['timestamp']),
      'at <timestamp>, on <date>, <date>, <date> and <time>',
    );
    assert.equal(normalizeOutput('{"b":1,"a":{"d":2,"c":3}}', ['json']), '{\n  "a": {\n    "c": 3,\n    "d": 2\n  },\n  "b": 1\n}');
    assert.equal(normalizeOutput('not json {', ['json']), 'not json {');
    assert.equal(normalizeOutput(' x ', []), ' x ');
  });

  it('compare numbers within a tolerance', () => {
    assert.equal(outputsEqual('total 10.001 EUR', 'total 10.0 EUR', [{ numbers: { tolerance: 0.01 } }]), true);
    assert.equal(outputsEqual('total 10.2 EUR', 'total 10.0 EUR', [{ numbers: { tolerance: 0.01 } }]), false);
    assert.equal(outputsEqual('total 10.001 EUR', 'total 10.0 EUR', []), false);
  });
});

describe('diffs', () => {
  it('word diff marks only what changed', () => {
    assert.deepEqual(wordDiff('the cat sat', 'the dog sat'), [
      { kind: 'same', text: 'the ' },
      { kind: 'removed', text: 'cat' },
      { kind: 'added', text: 'dog' },
      { kind: 'same', text: ' sat' },
    ]);
  });

  it('JSON diff by key path, ignoring key order', () => {
    assert.deepEqual(jsonDiff({ a: 1, b: [1, 2], c: { 'x-y': true } }, { b: [1, 3, 4], a: 1, c: {} }), [
      { path: '$.b[1]', kind: 'changed', before: 2, after: 3 },
      { path: '$.b[2]', kind: 'added', after: 4 },
      { path: '$.c["x-y"]', kind: 'removed', before: true },
    ]);
    assert.deepEqual(outputDiff('{"a":1,"b":2}', '{"b":2,"a":1}'), { kind: 'same' });
  });

  it('normalized noise is no change', () => {
    assert.deepEqual(outputDiff('Ticket 3f2b0a4c-1d2e-4f5a-8b9c-0d1e2f3a4b5c created 2024-05-01', 'Ticket 9a8b7c6d-1d2e-4f5a-8b9c-0d1e2f3a4b5c created 2024-05-02', ['uuid', 'timestamp']), { kind: 'same' });
  });

  for (const name of ['reply', 'order']) {
    it(`renders the ${name} diff as in its golden file`, async () => {
      const [before, after, expected] = await Promise.all(['before', 'after', 'expected'].map((k) => fs.readFile(path.join(FIXTURES, `${name}.${k}.txt`), 'utf8')));
      assert.equal(`${renderDiff(outputDiff(before, after), PLAIN_MARKS)}\n`, expected);
    });
  }
});
