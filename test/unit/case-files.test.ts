import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { formatDiagnostic, loadProject, type Project } from '../../src/core';
import { removeDir, tmpProject } from '../support/tmp';
import { LineCase, whole } from '../../src/core/formats/line-case';
import { caseDefinitions, caseModel } from '../../src/core/types/cases';
import { withModel } from '../../src/core/variants';

const PROMPT = (suite: string) => `name: Repeat
model: gpt-4o-mini
variables:
  item: { type: string }
messages:
  - role: system
    content: You repeat what you are given.
  - role: user
    content: "Repeat: {{ item }}"
suites:
  big:
    assert:
      - type: contains
        value: "{{ item }}"
${suite}`;

const lines = (...cases: unknown[]) => cases.map((c) => (typeof c === 'string' ? c : JSON.stringify(c))).join('\n') + '\n';

describe('JSONL case files (caseFiles)', () => {
  const dirs: string[] = [];
  after(async () => Promise.all(dirs.map(removeDir)));
  const load = async (files: Record<string, string>, root = ''): Promise<{ dir: string; project: Project; messages: string[] }> => {
    const dir = await tmpProject(files);
    dirs.push(dir);
    const project = await loadProject({ root: path.join(dir, root), paths: [path.join(dir, root)] });
    return { dir, project, messages: project.diagnostics.map((d) => formatDiagnostic(d, (f) => path.relative(dir, f))) };
  };

  it('loads one case per line after the inline cases, each located at its own line of its file', async () => {
    const { project, messages } = await load({
      'repeat.prompt.yml': PROMPT('    cases:\n      - { id: inline, vars: { item: first } }\n    caseFiles: [data/cases.jsonl]\n'),
      'data/cases.jsonl': lines({ id: 'c1', vars: { item: 'one' } }, '', { name: 'Second case', vars: { item: 'two' }, assert: [{ type: 'starts-with', value: 'echo' }], samples: 3 }),
    });
    assert.deepEqual(messages, []);
    assert.deepEqual(project.cases.map((c) => c.id), ['repeat.prompt.yml::big::inline', 'repeat.prompt.yml::big::c1', 'repeat.prompt.yml::big::second-case']);
    const [, c1, second] = project.cases;
    assert.equal(c1.relFile, 'data/cases.jsonl');
    assert.equal(path.basename(c1.file), 'cases.jsonl');
    assert.equal(c1.range.start.line, 0);
    assert.equal(second.range.start.line, 2, 'the blank line is skipped, not renumbered');
    assert.deepEqual(c1.request.messages, [{ role: 'system', content: 'You repeat what you are given.' }, { role: 'user', content: 'Repeat: one' }]);
    // The suite's assertions come first, then the line's own; the line's fields are a case's fields.
    assert.deepEqual(second.assertions.map((a) => [a.type, a.value]), [['contains', 'two'], ['starts-with', 'echo']]);
    assert.equal(second.samples, 3);
    // A system message without a template tag is one object for every case, not a copy each.
    assert.equal(c1.request.messages[0], second.request.messages[0]);
  });

  it('a suite file reads its case files relative to itself', async () => {
    const { project, messages } = await load({
      'repeat.prompt.yml': PROMPT('    cases:\n      - { id: inline, vars: { item: first } }\n'),
      'suites/big.suite.yml': 'prompt: ../repeat.prompt.yml\ncaseFiles: [data/more.jsonl]\n',
      'suites/data/more.jsonl': lines({ id: 'm1', vars: { item: 'x' } }),
    });
    assert.deepEqual(messages, []);
    const m1 = project.cases.find((c) => c.name === 'm1')!;
    assert.deepEqual([m1.id, m1.relFile, m1.suite], ['suites/big.suite.yml::big::m1', 'suites/data/more.jsonl', 'big']);
  });

  it('reports each bad line where it is and still loads the good ones', async () => {
    const { project, messages } = await load({
      'repeat.prompt.yml': PROMPT('    caseFiles: [cases.jsonl]\n'),
      'cases.jsonl': lines(
        { id: 'ok', vars: { item: 'fine' } },
        '{"id": "broken", "vars": {"item": "x"}',
        { id: 'typo', varz: { item: 'x' } },
        { id: 'wrong-type', vars: { item: 42 } },
        { id: 'bad-assert', vars: { item: 'x' }, assert: [{ type: 'containz', value: 'x' }] },
        '[1, 2]',
        { id: 'ok', vars: { item: 'again' } },
      ),
    });
    assert.deepEqual(project.cases.map((c) => c.name), ['ok']);
    assert.equal(messages.length, 6, messages.join('\n'));
    assert.match(messages[0], /^cases\.jsonl:2:\d+: not a JSON case: /);
    assert.equal(messages[1], "cases.jsonl:3:14: unknown field 'varz'");
    assert.equal(messages[2], "cases.jsonl:4:35: case 'wrong-type': variable 'item' must be of type string, got 42");
    assert.equal(messages[3], "cases.jsonl:5:58: unknown assertion type 'containz' (did you mean 'contains'?)");
    assert.equal(messages[4], 'cases.jsonl:6:1: a case is a JSON object on one line, e.g. {"id": "c1", "vars": {...}}');
    assert.equal(messages[5], "cases.jsonl:7:7: duplicate case id 'ok' in suite 'big' (first at line 1); give each case a unique id or name");
  });

  it('reads a file with a byte-order mark and Windows line ends', async () => {
    const { project, messages } = await load({
      'repeat.prompt.yml': PROMPT('    caseFiles: [cases.jsonl]\n'),
      'cases.jsonl': `\ufeff${lines({ id: 'a', vars: { item: 'one' } }, { id: 'b', vars: { item: 'two' } }).replace(/\n/g, '\r\n')}`,
    });
    assert.deepEqual(messages, []);
    assert.deepEqual(project.cases.map((c) => [c.name, c.range.start.line, c.range.end.character]), [['a', 0, 32], ['b', 1, 32]], 'the \r is not part of the line');
  });

  it('a duplicate across the suite file and a case file names the other file and line', async () => {
    const { messages } = await load({
      'repeat.prompt.yml': PROMPT('    cases:\n      - { id: same, vars: { item: a } }\n    caseFiles: [cases.jsonl]\n'),
      'cases.jsonl': lines({ id: 'same', vars: { item: 'b' } }),
    });
    assert.deepEqual(messages, ["cases.jsonl:1:7: duplicate case id 'same' in suite 'big' (first at repeat.prompt.yml:16); give each case a unique id or name"]);
  });

  it('past a hundred bad lines, the rest are counted in one error', async () => {
    const bad = Array.from({ length: 250 }, (_, i) => ({ id: `b${i}`, vars: {} }));
    const { project, messages } = await load({ 'repeat.prompt.yml': PROMPT('    caseFiles: [cases.jsonl]\n'), 'cases.jsonl': lines({ id: 'good', vars: { item: 'x' } }, ...bad) });
    assert.equal(project.cases.length, 1);
    // Each bad line says what is wrong with it (here two things: the suite's check cannot render either).
    assert.equal(messages.length, 201);
    // (Diagnostics come sorted by place: the count, at the file's start, first.)
    assert.equal(messages[0], 'cases.jsonl:1:1: 150 more lines with errors (the first 100 are reported)');
    assert.deepEqual(messages.slice(1, 3), ['cases.jsonl:2:1: template: attempted to output null or undefined value', "cases.jsonl:2:19: case 'b0': required variable 'item' has no value"]);
    assert.match(messages[200], /^cases\.jsonl:101:20: case 'b99'/);
  });

  it('a missing, empty, outside or non-JSONL case file is an error at its entry', async () => {
    const missing = await load({ 'repeat.prompt.yml': PROMPT('    caseFiles: [nowhere.jsonl]\n') });
    assert.equal(missing.messages.length, 1);
    assert.match(missing.messages[0], /^repeat\.prompt\.yml:15:17: cannot read case file nowhere\.jsonl: /);
    const empty = await load({ 'repeat.prompt.yml': PROMPT('    caseFiles: [cases.jsonl]\n'), 'cases.jsonl': '\n\n' });
    assert.deepEqual(empty.messages, ['repeat.prompt.yml:15:16: a suite needs at least one case: its case files hold none']);
    const outside = await load({ 'p/repeat.prompt.yml': PROMPT('    caseFiles: [../cases.jsonl]\n'), 'cases.jsonl': lines({ id: 'x', vars: { item: 'x' } }) }, 'p');
    assert.equal(outside.messages.length, 1);
    assert.match(outside.messages[0], /cannot read case file \.\.\/cases\.jsonl: .* is outside the project/);
    assert.deepEqual(outside.project.cases, []);
    const csv = await load({ 'repeat.prompt.yml': PROMPT('    caseFiles: [cases.csv]\n'), 'cases.csv': 'item\nx\n' });
    assert.deepEqual(csv.messages, ['repeat.prompt.yml:15:17: a case file is JSONL (.jsonl): one case per line (at suites.big.caseFiles[0])']);
  });

  it('holds a case file\'s cases as their lines, built again whole whenever they are read', async () => {
    const history = [{ role: 'user', content: 'earlier {{ item }}' }, { role: 'assistant', content: 'noted' }];
    const { project, messages } = await load({
      'repeat.prompt.yml': PROMPT('    cases:\n      - { id: inline, vars: { item: first } }\n    caseFiles: [cases.jsonl]\n'),
      'cases.jsonl': lines({ id: 'c1', vars: { item: 'one' }, assert: [{ type: 'llm-rubric', value: 'repeats {{ item }}' }], history, threshold: 0.5 }, { id: 'c2', vars: { item: 'two' } }),
    });
    assert.deepEqual(messages, []);
    const [inline, c1, c2] = project.cases;
    assert.ok(!(inline instanceof LineCase), 'inline cases are held built');
    assert.ok(c1 instanceof LineCase && c2 instanceof LineCase);
    // Every part reads as the built case's: the suite's and the line's assertions, the history, the range.
    assert.deepEqual(c1.request.messages.map((m) => m.content), ['You repeat what you are given.', 'earlier one', 'noted', 'Repeat: one']);
    assert.deepEqual(c1.vars, { item: 'one' });
    assert.deepEqual(c1.assertions.map((a) => [a.type, a.value]), [['contains', 'one'], ['llm-rubric', 'repeats one']]);
    assert.deepEqual(c2.range, { start: { line: 1, character: 0 }, end: { line: 1, character: JSON.stringify({ id: 'c2', vars: { item: 'two' } }).length } });
    assert.equal(c1.threshold, 0.5);
    assert.equal(c2.threshold, undefined);
    // What is asked of every case of a run is answered without building it, and answered alike.
    assert.deepEqual(caseDefinitions(c1).map((d) => d.kind), ['pure', 'model']);
    assert.deepEqual(caseDefinitions(c2), c2.assertions.map((a) => a.definition));
    assert.equal(caseModel(c2), 'gpt-4o-mini');
    // A copy (a spread, JSON, a model swap) is whole, and holds nothing of the file's text.
    for (const copy of [whole(c1), JSON.parse(JSON.stringify(c1)), withModel([c1], 'gpt-4.1')[0]]) {
      assert.deepEqual(copy.vars, { item: 'one' });
      assert.deepEqual(copy.request.messages, c1.request.messages);
      assert.deepEqual(copy.assertions.map((a: { value: unknown }) => a.value), ['one', 'repeats one']);
      assert.deepEqual(copy.range, c1.range);
      assert.ok(!JSON.stringify(copy).includes('"c2"'), 'the copy does not carry the file');
    }
    assert.equal(withModel([c2], 'gpt-4.1')[0].request.model, 'gpt-4.1');
  });
});
