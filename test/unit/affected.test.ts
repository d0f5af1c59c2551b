import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { affectedCases, caseFingerprint, loadProject, type CaseSpec } from '../../src/core';
import { removeDir, tmpProject } from '../support/tmp';
import { greetPrompt } from '../support/fixtures';

const PROMPT = greetPrompt();
const SUITE = `prompt: greet.prompt.yml
cases:
  - name: cy
    vars: { who: Cy }
    assert: [{ type: icontains, value: cy }]
`;

describe('affected cases: what a saved file re-runs in the editor', () => {
  let dir: string;
  afterEach(() => removeDir(dir));

  async function load(files: Record<string, string>): Promise<CaseSpec[]> {
    dir = await tmpProject(files);
    const project = await loadProject({ root: dir, paths: [dir] });
    assert.deepEqual(project.diagnostics, []);
    return project.cases;
  }
  const ran = (cases: CaseSpec[]) => new Map(cases.map((c) => [c.id, caseFingerprint(c)]));
  const names = (cases: CaseSpec[]) => cases.map((c) => c.name).sort();

  it('never-run cases of the saved file run; once run and unchanged, nothing does', async () => {
    const cases = await load({ 'greet.prompt.yml': PROMPT, 'greet.suite.yml': SUITE });
    const prompt = new Set([path.join(dir, 'greet.prompt.yml')]);
    assert.deepEqual(names(affectedCases(cases, prompt, new Map())), ['ann', 'bob', 'cy']);
    assert.deepEqual(affectedCases(cases, prompt, ran(cases)), []);
  });

  it('a prompt edit affects every case of its suites, in its file and in suite files', async () => {
    const before = ran(await load({ 'greet.prompt.yml': PROMPT, 'greet.suite.yml': SUITE }));
    await removeDir(dir);
    const after = await load({ 'greet.prompt.yml': PROMPT.replace('Say hello', 'Say hi'), 'greet.suite.yml': SUITE });
    assert.deepEqual(names(affectedCases(after, new Set([path.join(dir, 'greet.prompt.yml')]), before)), ['ann', 'bob', 'cy']);
  });

  it('a case edit affects that case only; comments, names of other cases and moves affect none', async () => {
    const before = ran(await load({ 'greet.prompt.yml': PROMPT, 'greet.suite.yml': SUITE }));
    await removeDir(dir);
    const edited = `# a comment moves every line\n${PROMPT.replace('value: bob', 'value: Bob')}`;
    const after = await load({ 'greet.prompt.yml': edited, 'greet.suite.yml': SUITE });
    assert.deepEqual(names(affectedCases(after, new Set([path.join(dir, 'greet.prompt.yml')]), before)), ['bob']);
    await removeDir(dir);
    const moved = await load({ 'greet.prompt.yml': `# only a comment\n${PROMPT}`, 'greet.suite.yml': SUITE });
    assert.deepEqual(affectedCases(moved, new Set([path.join(dir, 'greet.prompt.yml')]), before), []);
  });

  it('a suite file edit affects its changed and new cases, not the prompt file cases', async () => {
    const before = ran(await load({ 'greet.prompt.yml': PROMPT, 'greet.suite.yml': SUITE }));
    await removeDir(dir);
    const suite = `${SUITE.replace('value: cy', 'value: Cy')}  - name: dee\n    vars: { who: Dee }\n    assert: [{ type: icontains, value: dee }]\n`;
    const after = await load({ 'greet.prompt.yml': PROMPT, 'greet.suite.yml': suite });
    assert.deepEqual(names(affectedCases(after, new Set([path.join(dir, 'greet.suite.yml')]), before)), ['cy', 'dee']);
  });

  it('a change of samples or pass rate is a change; a tag or description is not', async () => {
    const base = await load({ 'greet.prompt.yml': PROMPT });
    const fp = caseFingerprint(base[0]);
    assert.notEqual(caseFingerprint({ ...base[0], samples: 5 }), fp);
    assert.notEqual(caseFingerprint({ ...base[0], passRate: 0.9 }), fp);
    assert.equal(caseFingerprint({ ...base[0], tags: ['x'], description: 'y', name: 'renamed' }), fp);
    // An agent case changes with its mocks and its step limit (run on save re-runs it).
    const agent = { mocks: { lookup: { result: { ok: true } } }, maxSteps: 10, turns: [] };
    const withAgent = caseFingerprint({ ...base[0], agent });
    assert.notEqual(withAgent, fp);
    assert.notEqual(caseFingerprint({ ...base[0], agent: { ...agent, mocks: { lookup: { result: { ok: false } } } } }), withAgent);
    assert.notEqual(caseFingerprint({ ...base[0], agent: { ...agent, maxSteps: 3 } }), withAgent);
  });
});
