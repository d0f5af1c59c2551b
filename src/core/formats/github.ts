import type { Diagnostic } from '../diagnostics';
import { hashOf } from '../canonical';
import type { AssertionData } from '../schema';
import type { PathSegment } from '../yamlfile';
import type { LoadedPrompt } from './loaded';
import { buildCase, oneLine } from './case';
import { DEFAULT_PASS_RATE, type SuiteSpec } from '../types/cases';

/**
 * GitHub Models' built-in evaluators, run by PromptGate's judges. The rubrics are PromptGate's own
 * wording of what each evaluator measures; similarity compares with the row's `expected`, and
 * groundedness with its `context`.
 */
const GITHUB_EVALUATORS: Record<string, { type: string; value?: string; threshold?: number }> = {
  // As in gh-models, a row without `expected` or `context` compares with empty text.
  'github/similarity': { type: 'llm-rubric', value: 'The output conveys the same meaning and facts as this expected answer, in any wording: {{ expected | default("") }}' },
  'github/coherence': { type: 'llm-rubric', value: 'The output is coherent: its sentences follow logically from one another and it reads as one well-organised answer.' },
  'github/fluency': { type: 'llm-rubric', value: 'The output is fluent: grammatical, natural and well-formed language, with no errors that hinder reading.' },
  'github/relevance': { type: 'answer-relevance', threshold: 0.7 },
  'github/groundedness': { type: 'llm-rubric', value: 'Every claim in the output is supported by this context, and nothing is added that the context does not say: {{ context | default("") }}' },
};

/** A GitHub Models `testData` + `evaluators` pair becomes the suite `testData`. */
export function githubSuite(p: LoadedPrompt, relFile: string, diagnostics: Diagnostic[]): SuiteSpec {
  const yaml = p.yaml;
  const assertions: { a: AssertionData; path: PathSegment[] }[] = [];
  (p.data.evaluators ?? []).forEach((e, i) => {
    const ep: PathSegment[] = ['evaluators', i];
    if (e.string) {
      // gh-models compares string evaluators without regard to case.
      const lower = (v: string) => `{% filter lower %}${v}{% endfilter %}`;
      const map = { equals: 'equals', contains: 'icontains', startsWith: 'starts-with', endsWith: 'ends-with' } as const;
      const given = Object.entries(e.string).filter(([, v]) => v !== undefined) as [keyof typeof map, string][];
      if (!given.length) diagnostics.push({ file: yaml.file, range: yaml.rangeOf([...ep, 'string']), message: `evaluator '${e.name}': string needs equals, contains, startsWith or endsWith`, severity: 'error', code: 'schema' });
      for (const [k, v] of given) {
        const a: AssertionData = k === 'contains' ? { type: 'icontains', value: v, weight: 1, metric: e.name } : { type: map[k], value: lower(v), transform: 'output.toLowerCase()', weight: 1, metric: e.name };
        assertions.push({ a, path: [...ep, 'string', k] });
      }
    } else if (e.uses && GITHUB_EVALUATORS[e.uses]) {
      assertions.push({ a: { ...GITHUB_EVALUATORS[e.uses], weight: 1, metric: e.name }, path: [...ep, 'uses'] });
    } else if (e.uses || e.llm) {
      diagnostics.push({
        file: yaml.file,
        range: yaml.rangeOf([...ep, e.uses ? 'uses' : 'llm']),
        message: e.uses
          ? `evaluator '${e.name}': unknown built-in '${e.uses}' (PromptGate runs ${Object.keys(GITHUB_EVALUATORS).join(', ')})`
          : `evaluator '${e.name}': custom llm evaluators are not supported yet; use an llm-rubric assertion in a suite`,
        severity: 'error',
        code: 'unsupported',
      });
    } else {
      diagnostics.push({ file: yaml.file, range: yaml.rangeOf(ep), message: `evaluator '${e.name}' has no string, uses or llm check`, severity: 'error', code: 'schema' });
    }
  });
  const suite: SuiteSpec = { name: 'testData', kind: 'golden', file: p.spec.file, relFile, range: yaml.rangeOf(['testData']), prompt: p.spec, normalize: [], cases: [] };
  const seen = new Set<string>();
  (p.data.testData ?? []).forEach((vars, i) => {
    const key = `vars-${hashOf(vars).slice(0, 8)}`;
    if (seen.has(key)) return; // identical rows are the same case
    seen.add(key);
    const first = Object.values(vars).find((v) => typeof v === 'string') as string | undefined;
    const spec = buildCase(p, yaml, {
      id: `${relFile}::testData::${key}`,
      name: first ? oneLine(first, 48) : key,
      suite: 'testData',
      suiteKind: 'golden',
      tags: [],
      relFile,
      range: yaml.rangeOf(['testData', i]),
      vars,
      varsPath: ['testData', i],
      assertions,
      passRate: DEFAULT_PASS_RATE,
      normalize: [],
    }, diagnostics);
    if (spec) suite.cases.push(spec);
  });
  return suite;
}
