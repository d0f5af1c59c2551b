import * as path from 'node:path';
import type { Diagnostic } from '../diagnostics';
import type { LoadedPrompt } from './loaded';
import { buildCase } from './case';
import { DEFAULT_PASS_RATE, type SuiteSpec } from '../types/cases';

/** A .prompty's `sample` inputs (inline, or `${file:NAME.json}` beside it) as the runnable suite `sample`. */
export async function sampleSuite(p: LoadedPrompt, relFile: string, read: (f: string) => Promise<string>, diagnostics: Diagnostic[]): Promise<SuiteSpec | undefined> {
  const yaml = p.yaml;
  let vars: Record<string, unknown>;
  if (typeof p.sample === 'string') {
    const ref = /^\$\{file:(.+)\}$/.exec(p.sample.trim());
    const problem = (message: string) => diagnostics.push({ file: yaml.file, range: yaml.rangeOf(['sample']), message, severity: 'error', code: 'reference' });
    if (!ref) {
      problem('sample is a mapping of inputs or ${file:NAME.json}');
      return undefined;
    }
    try {
      const parsed = JSON.parse(await read(path.resolve(path.dirname(yaml.file), ref[1]))) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('it is not a JSON object');
      vars = parsed as Record<string, unknown>;
    } catch (e) {
      problem(`sample file ${ref[1]}: ${(e as Error).message}`);
      return undefined;
    }
  } else vars = p.sample ?? {};
  const where = yaml.hasPath(['sample']) ? ['sample'] : ['inputs'];
  const range = yaml.rangeOf(where, 'key');
  const suite: SuiteSpec = { name: 'sample', kind: 'golden', file: yaml.file, relFile, range, prompt: p.spec, normalize: [], cases: [] };
  const spec = buildCase(p, yaml, {
    id: `${relFile}::sample::sample`,
    name: 'sample',
    suite: 'sample',
    suiteKind: 'golden',
    tags: [],
    relFile,
    range,
    vars,
    varsPath: where,
    assertions: [],
    passRate: DEFAULT_PASS_RATE,
    normalize: [],
  }, diagnostics);
  if (spec) suite.cases.push(spec);
  return suite;
}
