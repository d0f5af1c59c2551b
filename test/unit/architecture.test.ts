import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';

const ROOT = path.resolve(__dirname, '../..');

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(full)));
    else if (/\.tsx?$/.test(e.name)) out.push(full);
  }
  return out;
}

function imports(text: string): string[] {
  const specs: string[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(re)) specs.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return specs;
}

describe('architecture', () => {
  it('src/core imports neither vscode nor src/cli nor src/extension', async () => {
    const coreDir = path.join(ROOT, 'src/core');
    const offenders: string[] = [];
    for (const file of await sourceFiles(coreDir)) {
      for (const spec of imports(await fs.readFile(file, 'utf8'))) {
        const resolved = spec.startsWith('.') ? path.resolve(path.dirname(file), spec) : spec;
        const leaves = spec === 'vscode' || (spec.startsWith('.') && !resolved.startsWith(coreDir + path.sep) && resolved !== coreDir);
        if (leaves) offenders.push(`${path.relative(ROOT, file)} imports ${spec}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('only src/extension imports vscode', async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(path.join(ROOT, 'src'))) {
      if (file.startsWith(path.join(ROOT, 'src/extension') + path.sep)) continue;
      if (imports(await fs.readFile(file, 'utf8')).includes('vscode')) offenders.push(path.relative(ROOT, file));
    }
    assert.deepEqual(offenders, []);
  });

  it('the import scanner sees the forms it must catch', () => {
    assert.deepEqual(imports(`import * as v from 'vscode';\nconst x = require("../cli/main");\nexport { a } from '../extension/x';\nawait import('vscode');`), [
      'vscode',
      '../cli/main',
      '../extension/x',
      'vscode',
    ]);
  });
});
