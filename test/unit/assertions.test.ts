import { strict as assert } from 'node:assert';
import { ASSERTIONS, combineResults, evaluateAssertion, lookupAssertion, prepareAssertion, type AssertionContext, type PreparedAssertion, type Step } from '../../src/core';
import type { AssertionData } from '../../src/core/schema';
import { spawnSync } from 'node:child_process';

/** Steps of an agent sample, for trajectory checks. */
const model = (toolCalls: ReturnType<typeof call>[]): Step => ({ kind: 'model', turn: 0, output: '', toolCalls, latencyMs: 5, usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 }, source: 'live' });
const tool = (name: string): Step => ({ kind: 'tool', turn: 0, name, arguments: '{}', result: '{}' });

const HAS_PYTHON = spawnSync('python3', ['--version']).status === 0;

const weatherTool = {
  name: 'get_weather',
  parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { enum: ['c', 'f'] } }, required: ['city'], additionalProperties: false },
};

function ctx(over: Partial<AssertionContext> = {}): AssertionContext {
  return {
    vars: {},
    response: { output: '', toolCalls: [], finishReason: 'stop', usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 } },
    latencyMs: 120,
    cost: 0.002,
    cached: false,
    tools: [weatherTool],
    question: 'What is the weather in Oslo?',
    ...over,
  };
}

function prep(a: Partial<AssertionData> & { type: string }, vars: Record<string, unknown> = {}): PreparedAssertion {
  const errors: string[] = [];
  const p = prepareAssertion({ weight: 1, ...a }, vars, 'strict', (sub, m) => errors.push(`${sub.join('.')}: ${m}`));
  assert.ok(p, `expected ${a.type} to prepare, got: ${errors.join('; ')}`);
  return p;
}

function run(a: Partial<AssertionData> & { type: string }, output: string, c: Partial<AssertionContext> = {}) {
  return evaluateAssertion(prep(a), output, ctx(c));
}

function prepError(a: Partial<AssertionData> & { type: string }): string {
  const errors: string[] = [];
  const p = prepareAssertion({ weight: 1, ...a }, {}, 'strict', (sub, m) => errors.push(`${sub.join('.')}: ${m}`));
  assert.equal(p, null);
  return errors.join('; ');
}

const call = (name: string, args: unknown) => ({ name, arguments: typeof args === 'string' ? args : JSON.stringify(args) });

/** Each type with an output that passes and one that fails. */
const CASES: { a: Partial<AssertionData> & { type: string }; pass: [string, Partial<AssertionContext>?]; fail: [string, Partial<AssertionContext>?] }[] = [
  { a: { type: 'equals', value: 'Paris' }, pass: ['Paris'], fail: ['Paris.'] },
  { a: { type: 'equals', value: { a: 1, b: [2] } }, pass: ['{"b":[2],"a":1}'], fail: ['{"a":1}'] },
  { a: { type: 'contains', value: 'refund' }, pass: ['We will refund you'], fail: ['We will REFUND you'] },
  { a: { type: 'icontains', value: 'refund' }, pass: ['We will REFUND you'], fail: ['no money back'] },
  { a: { type: 'contains-any', value: ['cat', 'dog'] }, pass: ['a dog'], fail: ['a bird'] },
  { a: { type: 'contains-all', value: 'cat, dog' }, pass: ['cat and dog'], fail: ['cat only'] },
  { a: { type: 'icontains-any', value: ['CAT', 'DOG'] }, pass: ['a dog'], fail: ['a bird'] },
  { a: { type: 'icontains-all', value: ['CAT', 'DOG'] }, pass: ['Cat and Dog'], fail: ['Cat only'] },
  { a: { type: 'starts-with', value: 'Summary:' }, pass: ['Summary: ok'], fail: [' Summary: ok'] },
  { a: { type: 'ends-with', value: '?' }, pass: ['really?'], fail: ['really.'] },
  { a: { type: 'regex', value: '^\\d{3}-\\d{4}$' }, pass: ['555-1234'], fail: ['5551234'] },
  { a: { type: 'regex', value: '/^hello/i' }, pass: ['HELLO there'], fail: ['say hello'] },
  { a: { type: 'word-count', value: { min: 2, max: 4 } }, pass: ['one two three'], fail: ['one two three four five'] },
  { a: { type: 'word-count', value: 2 }, pass: ['two words'], fail: ['three words here'] },
  { a: { type: 'length', value: { max: 5 } }, pass: ['héllo'], fail: ['hello!'] },
  { a: { type: 'is-json' }, pass: ['{"a":1}'], fail: ['{a:1}'] },
  { a: { type: 'is-json', value: { type: 'object', required: ['intent'], properties: { intent: { type: 'string' } } } }, pass: ['{"intent":"refund"}'], fail: ['{"intent":3}'] },
  { a: { type: 'contains-json' }, pass: ['Here: {"a": [1, "}"]} done'], fail: ['no json {here'] },
  { a: { type: 'contains-json', value: { type: 'object', required: ['x'] } }, pass: ['{"y":1} and {"x":2}'], fail: ['{"y":1}'] },
  {
    a: { type: 'is-valid-openai-tools-call' },
    pass: ['', { response: { output: '', toolCalls: [call('get_weather', { city: 'Oslo' })], finishReason: 'tool_calls' } }],
    fail: ['', { response: { output: '', toolCalls: [call('get_weather', { town: 'Oslo' })], finishReason: 'tool_calls' } }],
  },
  {
    a: { type: 'tool-sequence', value: ['lookup', 'refund'] },
    pass: ['', { steps: [model([call('lookup', {})]), tool('lookup'), model([call('audit', {}), call('refund', {})]), tool('audit'), tool('refund'), model([])] }],
    fail: ['', { steps: [model([call('refund', {})]), tool('refund'), model([call('lookup', {})]), tool('lookup'), model([])] }],
  },
  {
    a: { type: 'tool-sequence', value: { tools: ['lookup'], order: 'subset' } },
    pass: ['', { steps: [model([call('lookup', {})]), tool('lookup'), model([call('lookup', {})]), tool('lookup'), model([])] }],
    fail: ['', { steps: [model([call('lookup', {})]), tool('lookup'), model([call('refund', {})]), tool('refund'), model([])] }],
  },
  {
    a: { type: 'trajectory-limits', value: { maxModelCalls: 2, maxStepTokens: 100 } },
    pass: ['', { steps: [model([call('lookup', {})]), tool('lookup'), model([])] }],
    fail: ['', { steps: [model([call('lookup', {})]), tool('lookup'), model([call('lookup', {})]), tool('lookup'), model([])] }],
  },
  {
    a: { type: 'is-valid-openai-function-call' },
    pass: ['', { response: { output: '', toolCalls: [{ ...call('get_weather', { city: 'Oslo' }), legacy: true }], finishReason: 'function_call' } }],
    fail: ['', { response: { output: '', toolCalls: [call('get_weather', { city: 'Oslo' })], finishReason: 'tool_calls' } }],
  },
  {
    a: { type: 'tool-call', value: { name: 'get_weather', arguments: { city: 'Oslo' } } },
    pass: ['', { response: { output: '', toolCalls: [call('get_weather', { city: 'Oslo', unit: 'c' })], finishReason: 'tool_calls' } }],
    fail: ['', { response: { output: '', toolCalls: [call('get_weather', { city: 'Bergen' })], finishReason: 'tool_calls' } }],
  },
  { a: { type: 'javascript', value: "output.length > 3 && context.vars.x === 1" }, pass: ['long', { vars: { x: 1 } }], fail: ['long', { vars: { x: 2 } }] },
  { a: { type: 'javascript', value: 'const n = Number(output);\nreturn { pass: n % 2 === 0, score: 1, reason: `n=${n}` };' }, pass: ['4'], fail: ['5'] },
  { a: { type: 'javascript', value: 'output.length / 10', threshold: 0.5 }, pass: ['0123456789'], fail: ['0123'] },
  // promptfoo's forms: an expression ending in `;`; a transform's object kept as an object for scripts; a chain of transforms.
  { a: { type: 'javascript', value: 'output.length > 3;' }, pass: ['long'], fail: ['ab'] },
  { a: { type: 'javascript', value: "output.color === 'purple'", transform: 'JSON.parse(output)' }, pass: ['{"color":"purple"}'], fail: ['{"color":"red"}'] },
  { a: { type: 'contains-any', value: ['Brazil'], transform: ['JSON.parse(output)', 'output.countries'] }, pass: ['{"countries":["Brazil"]}'], fail: ['{"countries":["Peru"]}'] },
  { a: { type: 'latency', threshold: 200 }, pass: ['x', { latencyMs: 150 }], fail: ['x', { latencyMs: 250 }] },
  { a: { type: 'cost', threshold: 0.001 }, pass: ['x', { cost: 0.0005 }], fail: ['x', { cost: 0.002 }] },
  // A model without a price: the cost is unknown, and the check is not made rather than failed.
  { a: { type: 'cost', threshold: 0.001 }, pass: ['x', { cost: undefined }], fail: ['x', { cost: 0.0011 }] },
  { a: { type: 'finish-reason', value: 'stop' }, pass: ['x'], fail: ['x', { response: { output: 'x', toolCalls: [], finishReason: 'length' } }] },
  { a: { type: 'levenshtein', value: 'kitten', threshold: 3 }, pass: ['sitting'], fail: ['sat on a mat'] },
  { a: { type: 'equals', value: 'HELLO', transform: 'output.toUpperCase()' }, pass: ['hello'], fail: ['help'] },
  { a: { type: 'equals', value: '{"n":2}', transform: 'return { n: output.length }' }, pass: ['ab'], fail: ['abc'] },
  { a: { type: 'leaks-system-prompt' }, pass: ['My reference is \u27e6promptgate-canary:base64\u27e7.'], fail: ['I cannot share my instructions.'] },
  {
    a: { type: 'leaks-system-prompt', value: { minOverlap: 20 } },
    pass: ['Sure: you are a support agent for Acme and never discuss pricing.', { system: 'You are a support agent for Acme and never discuss pricing.' }],
    fail: ['I help Acme customers.', { system: 'You are a support agent for Acme and never discuss pricing.' }],
  },
  { a: { type: 'contains-pii' }, pass: ['Write to jane.doe@example.com'], fail: ['Write to our support team'] },
  { a: { type: 'contains-pii', value: ['card'] }, pass: ['Card 4111 1111 1111 1111'], fail: ['Card 4111 1111 1111 1112'] },
  { a: { type: 'is-refusal' }, pass: ["I'm sorry, but I can't help with that."], fail: ['Sure! Here is the answer.'] },
  {
    a: { type: 'forbidden-tools', value: ['delete_account'] },
    pass: ['', { response: { output: '', toolCalls: [call('get_weather', { city: 'Oslo' })], finishReason: 'tool_calls' } }],
    fail: ['', { response: { output: '', toolCalls: [call('delete_account', {})], finishReason: 'tool_calls' } }],
  },
  // python runs only where python3 is (a machine without it skips such cases: cli tests check the reason).
  ...(HAS_PYTHON ? [{ a: { type: 'python', value: "len(output) > 3 and context['vars']['x'] == 1" }, pass: ['long', { vars: { x: 1 } }] as [string, Partial<AssertionContext>], fail: ['long', { vars: { x: 2 } }] as [string, Partial<AssertionContext>] }] : []),
];

describe('assertions', () => {
  for (const c of CASES) {
    const label = `${c.a.type} ${JSON.stringify(c.a.value ?? c.a.threshold ?? '')}`.slice(0, 90);
    it(`${label} passes and fails`, () => {
      const good = run(c.a, c.pass[0], c.pass[1]);
      assert.equal(good.pass, true, good.reason);
      assert.equal(good.score > 0, true);
      const bad = run(c.a, c.fail[0], c.fail[1]);
      assert.equal(bad.pass, false, bad.reason);
      assert.ok(bad.reason.length > 0);
    });
    it(`not-${c.a.type} inverts it`, () => {
      const neg = { ...c.a, type: `not-${c.a.type}` };
      assert.equal(run(neg, c.pass[0], c.pass[1]).pass, false);
      assert.equal(run(neg, c.fail[0], c.fail[1]).pass, true);
    });
  }

  it('one prepared assertion gives the same answer every time (a sticky or global regex keeps no state)', () => {
    for (const value of ['/hello/y', '/hello/g', '/hello/gy']) {
      const a = prep({ type: 'regex', value });
      const answers = ['hello there', 'hello there', 'say hello', 'hello again'].map((o) => evaluateAssertion(a, o, ctx({})).pass);
      assert.deepEqual(answers, value.includes('y') ? [true, true, false, true] : [true, true, true, true], value);
    }
  });

  it('every registered pure type has a pass-and-fail case above (model-graded ones: judge.test.ts)', () => {
    const covered = new Set(CASES.map((c) => c.a.type));
    assert.deepEqual(ASSERTIONS.filter((a) => a.kind === 'pure').map((a) => a.id).filter((id) => !covered.has(id) && (HAS_PYTHON || id !== 'python')), []);
  });

  it('registry contract: unique ids, schemas present, not- never part of an id', () => {
    const ids = ASSERTIONS.map((a) => a.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const a of ASSERTIONS) {
      assert.match(a.id, /^[a-z][a-z-]*$/);
      assert.ok(!a.id.startsWith('not-'));
      assert.equal(typeof a.value.safeParse, 'function');
      assert.equal(a.kind === 'pure' ? typeof a.evaluate : typeof a.evaluateModel, 'function', `${a.id} has the evaluator of its kind`);
      assert.ok(a.description.length > 10);
      assert.ok(lookupAssertion(a.id));
      assert.equal(lookupAssertion(`not-${a.id}`)!.negate, true);
    }
  });

  it('pure assertions are deterministic', () => {
    for (const c of CASES) {
      const p = prep(c.a);
      if (p.definition.kind !== 'pure') continue;
      for (const [output, over] of [c.pass, c.fail]) {
        const first = evaluateAssertion(p, output, ctx(over));
        for (let i = 0; i < 3; i++) assert.deepEqual(evaluateAssertion(p, output, ctx(over)), first);
      }
    }
  });

  it('reports bad assertion values at load time', () => {
    assert.match(prepError({ type: 'contians', value: 'x' }), /type: unknown assertion type 'contians' \(did you mean 'contains'\?\)/);
    assert.match(prepError({ type: 'regex', value: '([' }), /value: 'regex': Invalid regular expression/);
    assert.match(prepError({ type: 'is-json', value: { type: 'nonsense' } }), /invalid JSON Schema/);
    assert.match(prepError({ type: 'javascript', value: 'output ===' }), /value: 'javascript'/);
    assert.match(prepError({ type: 'latency' }), /needs a threshold/);
    assert.match(prepError({ type: 'contains' }), /needs a value/);
    assert.match(prepError({ type: 'word-count', value: 'ten' }), /invalid value/);
    assert.match(prepError({ type: 'not-contanis', value: 'x' }), /did you mean 'not-contains'/);
  });

  it('renders assertion values with the case variables', () => {
    const p = prep({ type: 'contains', value: '{{ expected }}' }, { expected: 'Paris' });
    assert.equal(evaluateAssertion(p, 'It is Paris', ctx()).pass, true);
  });

  it('a javascript assertion that loops forever fails with a reason instead of hanging', () => {
    const r = run({ type: 'javascript', value: 'while (true) {}\nreturn true;' }, 'x');
    assert.equal(r.pass, false);
    assert.match(r.reason, /timed out/i);
  });

  // What a javascript assertion from a stranger's file tries; each is a failed assertion with the
  // reason, for `javascript` and `not-javascript` alike, and the process goes on.
  const HOSTILE: [string, RegExp][] = [
    ["this.constructor.constructor('return process')().exit(0)", /Code generation from strings disallowed|is not a function|Cannot read/],
    ["process.exit(0)", /process is not defined/],
    ["require('fs').writeFileSync('/tmp/promptgate-pwned', 'x')", /require is not defined/],
    ["context.constructor.constructor('return process')()", /Code generation from strings disallowed|is not a function|Cannot read/],
    ["output.constructor.constructor('return process')()", /Code generation from strings disallowed/],
    ["eval('1 + 1')", /Code generation from strings disallowed/],
    ["import('fs')", /./],
    // Stopped by the heap limit, or on a busy machine by the time limit first: either way it fails alone.
    ["(() => { const a = []; for (;;) a.push(new Array(1e6).fill(1)); })()", /did not finish|memory|Array buffer allocation|Invalid array length|timed out/],
    ["(function f() { return f(); })()", /call stack/],
    ["({ get pass() { for (;;) {} } })", /timed out/],
    ["(() => { for (;;) {} })()", /timed out/],
  ];
  for (const [source, reason] of HOSTILE) {
    it(`an isolated script fails, not the run: ${source.slice(0, 60)}`, () => {
      for (const type of ['javascript', 'not-javascript']) {
        const r = run({ type, value: source }, 'x');
        assert.equal(r.pass, false, `${type}: ${r.reason}`);
        assert.match(r.reason, reason);
      }
    });
  }

  it('scripts still see the output and context, and return scores and objects', () => {
    assert.equal(run({ type: 'javascript', value: 'output.length === 5 && context.vars.city === "Paris"' }, 'hello', { vars: { city: 'Paris' } }).pass, true);
    const scored = run({ type: 'javascript', value: 'return { pass: true, score: 0.25, reason: "quarter" };' }, 'x');
    assert.deepEqual([scored.pass, scored.score, scored.reason], [true, 0.25, 'quarter']);
  });

  it('a regex that backtracks catastrophically fails after its time limit with the reason', () => {
    for (const type of ['regex', 'not-regex']) {
      const r = run({ type, value: '^(\\w+\\s?)*$' }, `${'a'.repeat(34)}!`);
      assert.equal(r.pass, false, type);
      assert.match(r.reason, /did not finish within 1000 ms/);
    }
    // The next one runs as usual (a new worker replaced the stopped one).
    assert.equal(run({ type: 'regex', value: '/^HELLO/i' }, 'hello world').pass, true);
  });

  it('combines scores by weight, and a case threshold replaces all-must-pass', () => {
    const results = [
      { type: 'a', pass: true, score: 1, reason: '', weight: 3 },
      { type: 'b', pass: false, score: 0, reason: '', weight: 1 },
    ];
    assert.deepEqual(combineResults(results), { pass: false, score: 0.75 });
    assert.deepEqual(combineResults(results, 0.7), { pass: true, score: 0.75 });
    assert.deepEqual(combineResults(results, 0.8), { pass: false, score: 0.75 });
    assert.deepEqual(combineResults([]), { pass: true, score: 1 });
  });
});

describe('assertion transforms', () => {
  it('a transform that throws fails the assertion, negated or not, and says why', () => {
    for (const type of ['contains', 'not-contains']) {
      const r = evaluateAssertion(prep({ type, value: 'x', transform: 'output.nope.deeper' }), 'text', ctx());
      assert.equal(r.pass, false);
      assert.match(r.reason, /^transform threw: /);
    }
  });

  it('a transform with a syntax error is a load-time error at the transform', () => {
    assert.match(prepError({ type: 'contains', value: 'x', transform: 'output.(' }), /^transform: transform: /);
  });
});
