import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import fc from 'fast-check';
import { dump } from 'js-yaml';
import { loadProject, type Diagnostic } from '../../src/core';
import { removeDir, tmpProject } from '../support/tmp';
import { cli } from '../support/cli';

/*
 * Fuzzing the loaders: 10,000 prompt, suite, promptfoo and Prompty files, generated from the schema's
 * vocabulary or mutated from real ones (the examples and fixtures). Each load must end (no hang, no
 * throw) with nothing but located diagnostics: a file, a range inside the text, a message.
 */

const ROOT = path.resolve(__dirname, '../..');
const RUNS = Number(process.env.PROMPTGATE_FUZZ_RUNS ?? 10_000);

const PROMPTY = `---
name: Shop assistant
model:
  api: chat
  configuration: { type: openai, name: gpt-4o-mini }
  parameters: { max_tokens: 150, temperature: 0.1 }
inputs:
  question: { type: string, sample: Do you sell tents? }
sample:
  question: Which stove is lightest?
---
system:
You help customers of an outdoor shop.

user:
{{question}}
`;

type Kind = 'prompt' | 'suite' | 'promptfoo' | 'prompty';
const FILE: Record<Kind, string> = { prompt: 'fuzz.prompt.yml', suite: 'fuzz.suite.yml', promptfoo: 'promptfooconfig.yaml', prompty: 'fuzz.prompty' };

/** Words the schemas know, so generated files get past the first check more often. */
const KEYS = ['name', 'model', 'messages', 'role', 'content', 'suites', 'cases', 'vars', 'assert', 'type', 'value', 'threshold', 'weight', 'samples', 'prompt', 'variables', 'modelParameters', 'temperature', 'kind', 'packs', 'target', 'limit', 'tools', 'responseFormat', 'jsonSchema', 'normalize', 'transform', 'prompts', 'providers', 'tests', 'defaultTest', 'description', 'id', 'provider', 'judge', 'rubric', 'testData', 'evaluators', 'inputs', 'sample', 'refusal', 'forbiddenTools', 'metric', 'expected', 'version', 'tags'];
const VALUES = ['gpt-4o-mini', 'system', 'user', 'assistant', 'contains', 'icontains', 'equals', 'regex', 'javascript', 'is-json', 'llm-rubric', 'similar', 'adversarial', 'golden', 'injection', 'jailbreak', '{{ who }}', '{% if x %}y{% endif %}', '{{', '}}', 'file://x.txt', '${file:x.json}', 'file://env.txt', 'file://../outside.txt', '${file:env.txt}', '{{ range.constructor("return process")() }}', '{{ cycler["const" ~ "ructor"] }}', '{% for i in range(0, 100000000) %}x{% endfor %}', '^(\\w+\\s?)*$', 'auto', 'json_schema', 'echo', 'openai:chat:gpt-4o', '[a-', '(a+)+$', '*', '&a', '<<: *a', '!!binary', '\u202e', '\u0000', 'é', '中文', '🙂'];

const scalar = fc.oneof(fc.constantFrom(...VALUES), fc.string({ maxLength: 30 }), fc.integer({ min: -5, max: 1_000_000 }), fc.double({ noNaN: false }), fc.boolean(), fc.constant(null));
const tree = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.constantFrom(...KEYS), tie('node'), { maxKeys: 6 })),
})).node;

const generated = fc.tuple(fc.constantFrom<Kind>('prompt', 'suite', 'promptfoo', 'prompty'), fc.dictionary(fc.constantFrom(...KEYS), tree, { maxKeys: 8 })).map(([kind, data]) => {
  const text = dump(data, { skipInvalid: true });
  return { kind, text: kind === 'prompty' ? `---\n${text}---\nsystem:\nhi {{x}}\n` : text };
});

/** A text edit of a real file: insert, delete, duplicate a line, swap a scalar, truncate, re-indent. */
const edit = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...VALUES, ': ', '- ', '\n', '  ', '\t', '"', "'", '#', '|', '>', '---\n', '...\n'), fc.string({ maxLength: 12 })) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.nat({ max: 40 }) }),
  fc.record({ op: fc.constant('dupline' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('indent' as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
);

function apply(text: string, e: { op: string; at: number; text?: string; length?: number; by?: number }): string {
  const at = text.length ? e.at % (text.length + 1) : 0;
  switch (e.op) {
    case 'insert':
      return text.slice(0, at) + e.text + text.slice(at);
    case 'delete':
      return text.slice(0, at) + text.slice(at + (e.length ?? 1));
    case 'truncate':
      return text.slice(0, at);
    case 'dupline':
    case 'indent': {
      const lines = text.split('\n');
      const i = e.at % lines.length;
      if (e.op === 'dupline') lines.splice(i, 0, lines[i]);
      else lines[i] = (e.by ?? 0) > 0 ? ' '.repeat(e.by!) + lines[i] : lines[i].slice(-(e.by ?? 0));
      return lines.join('\n');
    }
    default:
      return text;
  }
}

describe('fuzzing the file loaders (fast-check)', function () {
  this.timeout(600_000);
  let dir: string;
  const seeds: { kind: Kind; text: string }[] = [];
  before(async () => {
    dir = await tmpProject({ [FILE.prompt]: '', [FILE.suite]: '', [FILE.promptfoo]: '', [FILE.prompty]: '', 'x.txt': 'text', 'x.json': '{}' });
    // A link inside the project to a file outside it: never read, always a located error.
    await fs.writeFile(`${dir}-outside.txt`, 'SECRET=outside');
    await fs.symlink(`${dir}-outside.txt`, path.join(dir, 'env.txt'));
    const read = (f: string) => fs.readFile(path.join(ROOT, f), 'utf8');
    for (const f of ['examples/support-reply.prompt.yml', 'examples/extract-order.prompt.yml', 'examples/summarize.prompt.yml', 'test/fixtures/vscode-ws/greet.prompt.yml']) seeds.push({ kind: 'prompt', text: await read(f) });
    seeds.push({ kind: 'suite', text: (await read('examples/support-reply-attacks.suite.yml')).replace(/^prompt: .*$/m, `prompt: ${FILE.prompt}`) });
    seeds.push({ kind: 'promptfoo', text: await read('test/fixtures/promptfoo/promptfooconfig.yaml') });
    seeds.push({ kind: 'prompty', text: PROMPTY });
    // A YAML alias bomb ("billion laughs"): aliases share structure, so this one loads without blowing
    // up; one expanding past 100,000 nodes is refused at its alias (project.test.ts).
    seeds.push({ kind: 'prompt', text: `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d]\nmodel: m\nmessages: []\n` });
  });
  after(async () => {
    await removeDir(dir);
    await fs.rm(`${dir}-outside.txt`, { force: true });
  });

  it(`${RUNS.toLocaleString('en-US')} generated and mutated files: no crash, no hang, only located errors`, async () => {
    const mutated = fc.tuple(fc.nat(), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([i, edits]) => {
      const seed = seeds[i % seeds.length];
      return { kind: seed.kind, text: edits.reduce((t, e) => apply(t, e), seed.text) };
    });
    const kinds = new Map<Kind, number>();
    let withErrors = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(generated, mutated, mutated), async ({ kind, text }) => {
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        const file = path.join(dir, FILE[kind]);
        // Only this kind's file is loaded; the others stay empty placeholders that are not named.
        const project = await loadProject({ root: dir, paths: [file], readFile: async (f) => (f === file ? text : fs.readFile(f, 'utf8')) });
        const located = (d: Diagnostic) => {
          assert.ok(d.message && typeof d.message === 'string', `a diagnostic without a message: ${JSON.stringify(d)}`);
          assert.ok(path.isAbsolute(d.file), `a diagnostic without its file: ${JSON.stringify(d)}`);
          if (d.severity === 'error' && d.file === file) assert.ok(d.range, `an error without its place: ${JSON.stringify(d)}`);
          if (d.file === file && d.range) {
            const lines = text.split('\n').length;
            assert.ok(d.range.start.line >= 0 && d.range.start.line <= lines && d.range.end.line <= lines && d.range.start.character >= 0, `a range outside the text (${lines} lines): ${JSON.stringify(d)}`);
          }
        };
        project.diagnostics.forEach(located);
        if (project.diagnostics.some((d) => d.severity === 'error')) withErrors++;
      }),
      { numRuns: RUNS, seed: 20261128, interruptAfterTimeLimit: 540_000, markInterruptAsFailure: true },
    );
    // The generators reach every kind, and both sides: files that load and files that are wrong.
    assert.deepEqual([...kinds.keys()].sort(), ['prompt', 'promptfoo', 'prompty', 'suite']);
    assert.ok(withErrors > RUNS * 0.2 && withErrors < RUNS, `${withErrors} of ${RUNS} files had errors`);
  });

  it('through the CLI: hostile files end validate with located errors only (templates into the runtime, loops, links)', async () => {
    const hostile = [
      '{{ range.constructor("return process")() }}',
      '{{ "".constructor.constructor("return 1")() }}',
      '{% for i in range(0, 100000000) %}x{% endfor %}',
      '{% for i in range(0, 100000) %}{% for j in range(0, 100000) %}x{% endfor %}{% endfor %}',
      '{{ "x" | indent(1000000000) }}',
    ];
    const files: { kind: Kind; text: string }[] = fc.sample(fc.oneof(generated, fc.tuple(fc.nat(), fc.array(edit, { maxLength: 3 })).map(([i, edits]) => ({ kind: seeds[i % seeds.length].kind, text: edits.reduce((t, e) => apply(t, e), seeds[i % seeds.length].text) }))), { numRuns: 30, seed: 20261202 });
    hostile.forEach((h, i) => files.push({ kind: 'prompt', text: `name: H${i}\nmodel: m\nmessages:\n  - role: user\n    content: '${h.replace(/'/g, "''")}'\nsuites:\n  s:\n    cases: [{ id: a }]\n` }));
    files.push({ kind: 'promptfoo', text: `prompts: ['{{ doc }}']\nproviders: [echo]\ntests:\n  - vars: { doc: file://env.txt }\n` });
    for (const { kind, text } of files) {
      await fs.writeFile(path.join(dir, FILE[kind]), text);
      const r = await cli(['validate', FILE[kind]], dir);
      assert.ok(r.code === 0 || r.code === 2, `exit ${r.code}: ${r.stderr}`);
      for (const line of r.stderr.split('\n').filter((l) => l.startsWith('error: '))) {
        if (/^error: invalid files|^error: .*: no such file/.test(line)) continue;
        assert.match(line, /^error: [^:]+:\d+:\d+: /, `an error without its place, for:\n${text}`);
      }
      await fs.writeFile(path.join(dir, FILE[kind]), '');
    }
  });
});
