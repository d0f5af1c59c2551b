import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { ASSERTIONS, formatDiagnostic, loadProject } from '../../src/core';
import { removeDir, tmpProject } from '../support/tmp';

const ROOT = path.resolve(__dirname, '../..');

/** The README's commands and examples are the ones that work. */
describe('README', () => {
  let readme: string;
  before(async () => {
    readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
  });

  it('its complete prompt-file example loads with no errors', async () => {
    const section = readme.slice(readme.indexOf('### Prompt file'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)![1];
    const dir = await tmpProject({ 'support.prompt.yml': example });
    try {
      const project = await loadProject({ root: dir, paths: [dir] });
      const errors = project.diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d));
      assert.deepEqual(errors, []);
      assert.deepEqual(project.suites.map((s) => s.name), ['golden', 'testData']);
    } finally {
      await removeDir(dir);
    }
  });

  it('documents every assertion type', () => {
    const table = readme.slice(readme.indexOf('## Assertions'), readme.indexOf('## Providers'));
    const missing = ASSERTIONS.map((a) => a.id).filter((id) => !table.includes(`\`${id}\``));
    assert.deepEqual(missing, []);
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
