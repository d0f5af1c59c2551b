import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { ASSERTIONS, formatDiagnostic, loadProject } from '../../src/core';
import { removeDir, tmpProject } from '../support/tmp';

const ROOT = path.resolve(__dirname, '../..');

const loads = async (example: string, more: Record<string, string> = {}) => {
  const dir = await tmpProject({ 'example.prompt.yml': example, ...more });
  try {
    const project = await loadProject({ root: dir, paths: [dir] });
    return { errors: project.diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d)), suites: project.suites.map((s) => s.name) };
  } finally {
    await removeDir(dir);
  }
};

/** The README's and the docs' commands and examples are the ones that work. */
describe('README and docs', () => {
  let readme: string;
  const doc = (name: string) => fs.readFile(path.join(ROOT, 'docs', name), 'utf8');
  before(async () => {
    readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
  });

  it("the README's example loads with no errors", async () => {
    const example = /```yaml\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## One example')))![1];
    assert.deepEqual(await loads(example), { errors: [], suites: ['golden'] });
  });

  it('every page the README names exists, and every page in docs/ is named', async () => {
    const named = [...readme.matchAll(/`docs\/([\w-]+\.md)`/g)].map((m) => m[1]);
    const pages = (await fs.readdir(path.join(ROOT, 'docs'))).filter((f) => f.endsWith('.md'));
    assert.deepEqual([...new Set(named)].sort(), pages.sort());
  });

  it('the complete prompt-file example loads with no errors', async () => {
    const section = (await doc('files.md')).slice((await doc('files.md')).indexOf('## Prompt file'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)![1];
    // Its case file is the JSONL example that follows it.
    const caseFile = /caseFiles: \[([^\]]+)\]/.exec(example)![1];
    const lines = /```jsonl\n([\s\S]*?)```/.exec(section)![1];
    assert.deepEqual(await loads(example, { [caseFile]: lines }), { errors: [], suites: ['golden', 'testData'] });
  });

  it('documents every assertion type', async () => {
    const table = await doc('assertions.md');
    const missing = ASSERTIONS.map((a) => a.id).filter((id) => !table.includes(`\`${id}\``));
    assert.deepEqual(missing, []);
  });

  it('the README links nothing by a relative path (the .vsix packager refuses those without a repository URL)', () => {
    const relative = [...readme.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]).filter((href) => !/^(https?:|#)/.test(href));
    assert.deepEqual(relative, []);
  });

  it('gives the two commands that .ci/run runs', async () => {
    const ci = await fs.readFile(path.join(ROOT, '.ci/run'), 'utf8');
    assert.match(readme, /npm ci && npm run demo/);
    assert.match(readme, /^npm test/m);
    assert.match(ci, /^npm ci\b/m);
    assert.match(ci, /^npm run demo$/m);
    assert.match(ci, /^npm test$/m);
  });
});
