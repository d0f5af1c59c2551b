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

/**
 * Core's layers, lowest first. A module may import modules of its own layer or below, never above,
 * and no import circle exists at all (type-only imports count: a type is a dependency too).
 * Paths are relative to src/core, a trailing / covering a folder; every module must be listed.
 */
export const LAYERS: readonly { name: string; modules: string[] }[] = [
  { name: 'ground: plain data, the schemas of the files, leaf utilities', modules: ['types/', 'schema', 'diagnostics', 'canonical', 'fsutil', 'stats', 'channel', 'vendor', 'providers/types', 'redteam/encoders'] },
  { name: 'files: YAML, templates, stores, diffs', modules: ['redteam/detect', 'redteam/packs', 'yamlfile', 'template', 'normalize', 'diff', 'store'] },
  { name: 'providers', modules: ['providers/', 'redteam/canary'] },
  { name: 'assertions and judges', modules: ['assertions/', 'jsonschema', 'judge', 'derived'] },
  { name: 'model: sampling, verdicts, baselines, config', modules: ['sampling', 'verdicts', 'baseline', 'config'] },
  { name: 'formats: the input formats and the project', modules: ['formats/', 'discover', 'project', 'variants', 'affected'] },
  { name: 'run: runner, records, outcomes, wording', modules: ['runner', 'agent', 'runs', 'evaluate', 'approve', 'redteam/report', 'export', 'wording', 'history', 'panel'] },
  { name: 'registry', modules: ['registry/'] },
  { name: 'session: composition and the one run pipeline', modules: ['session/'] },
  { name: 'entry', modules: ['index'] },
];

/** The layer of a module (path relative to src/core, no extension), by its longest matching entry. */
export function layerOf(mod: string): number {
  let best = -1;
  let bestLen = -1;
  LAYERS.forEach((l, i) => {
    for (const m of l.modules) {
      const hit = m.endsWith('/') ? mod.startsWith(m) : mod === m;
      if (hit && m.length > bestLen) {
        best = i;
        bestLen = m.length;
      }
    }
  });
  return best;
}

/** Import circles in a graph of module → imported modules (each circle once, as a path). */
export function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (m: string) => {
    state.set(m, 'open');
    stack.push(m);
    for (const n of graph.get(m) ?? []) {
      if (state.get(n) === 'open') found.push([...stack.slice(stack.indexOf(n)), n]);
      else if (!state.has(n)) visit(n);
    }
    stack.pop();
    state.set(m, 'done');
  };
  for (const m of [...graph.keys()].sort()) if (!state.has(m)) visit(m);
  return found;
}

async function coreGraph(): Promise<Map<string, string[]>> {
  const coreDir = path.join(ROOT, 'src/core');
  const graph = new Map<string, string[]>();
  for (const file of await sourceFiles(coreDir)) {
    const mod = path.relative(coreDir, file).replace(/\.ts$/, '').split(path.sep).join('/');
    const deps: string[] = [];
    for (const spec of imports(await fs.readFile(file, 'utf8'))) {
      if (!spec.startsWith('.') || spec.endsWith('.json')) continue;
      let target = path.relative(coreDir, path.resolve(path.dirname(file), spec)).split(path.sep).join('/');
      if (await fs.stat(path.join(coreDir, target)).then((s) => s.isDirectory(), () => false)) target += '/index';
      deps.push(target);
    }
    graph.set(mod, deps);
  }
  return graph;
}

describe('architecture', () => {
  it('every core module is in the layers table, and imports only its own layer or below', async () => {
    const graph = await coreGraph();
    const unlisted = [...graph.keys()].filter((m) => layerOf(m) < 0);
    assert.deepEqual(unlisted, [], 'modules missing from LAYERS');
    const upward: string[] = [];
    for (const [mod, deps] of graph) {
      for (const d of deps) if (layerOf(d) > layerOf(mod)) upward.push(`${mod} (${LAYERS[layerOf(mod)].name}) imports ${d} (${LAYERS[layerOf(d)]?.name})`);
    }
    assert.deepEqual(upward, []);
  });

  it('core has no import circle', async () => {
    assert.deepEqual(circles(await coreGraph()).map((c) => c.join(' → ')), []);
  });

  it('the layer and circle checks see what they must catch', () => {
    assert.equal(layerOf('types/results'), 0);
    assert.equal(layerOf('providers/openai'), 2);
    assert.equal(layerOf('providers/types'), 0, 'the longest entry wins');
    assert.equal(layerOf('nowhere'), -1);
    assert.deepEqual(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c', 'a']]);
    assert.deepEqual(circles(new Map([['a', ['b']], ['b', []]])), []);
  });

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
