import type { Diagnostic } from '../diagnostics';
import { assertionTypeNames } from '../assertions/registry';
import { type PromptFileData, type ProviderOptions } from '../schema';
import { readPromptfoo } from './promptfoo';
import { mapProvider } from './promptfoo-providers';
import { promptfooConfigSchema, type Skip } from './promptfoo-schema';
import { YamlFile } from '../yamlfile';
import { type LoadedPrompt, type PromptSource, finishPrompt } from './prompt-file';
import { buildCase, prepareAssertion, type CaseInput } from './case';
import { conversations } from './promptfoo-conversation';
import { renderTemplate } from '../template';
import { DEFAULT_MAX_STEPS } from '../types/agent';
import { DEFAULT_PASS_RATE, type SuiteSpec } from '../types/cases';

/** A promptfoo configuration: one prompt and suite per prompt × provider, each test a case. */
export async function promptfooSuites(
  file: string,
  rel: (f: string) => string,
  read: (f: string) => Promise<string>,
  providerDefaults: Partial<ProviderOptions>,
  diagnostics: Diagnostic[],
  keep: (p: LoadedPrompt) => void,
  cap: (concurrency: number) => void,
): Promise<SuiteSpec[]> {
  let text: string;
  try {
    text = await read(file);
  } catch (err) {
    diagnostics.push({ file, message: `cannot read: ${(err as Error).message}`, severity: 'error', code: 'io' });
    return [];
  }
  const { yaml, diagnostics: yd } = YamlFile.parse(file, text);
  diagnostics.push(...yd);
  if (!yaml) return [];
  const parsed = promptfooConfigSchema().safeParse(yaml.data ?? {});
  if (!parsed.success) {
    diagnostics.push(...yaml.schemaDiagnostics(parsed.error));
    return [];
  }
  const pf = await readPromptfoo(yaml, parsed.data, read, assertionTypeNames(), diagnostics);
  if (pf.concurrency) cap(pf.concurrency);
  const relFile = rel(file);
  const safe = (t: string) => t.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'prompt';
  const suites: SuiteSpec[] = [];
  const where = (k: Skip) => `${rel(k.file)}:${k.range.start.line + 1}:${k.range.start.character + 1}`;
  for (const prompt of pf.prompts) {
    for (const provider of pf.providers) {
      if (provider.prompts && !provider.prompts.some((x) => matches(x, prompt.label))) continue;
      const name = pf.providers.length > 1 ? `${safe(prompt.label)}@${safe(provider.label)}` : safe(prompt.label);
      // A prompt's own config goes over its provider's (promptfoo's prompt-level config).
      const mapped = prompt.config && !provider.skip ? mapProvider(provider.id, { ...provider.config, ...prompt.config }) : provider;
      const skip = prompt.skip ?? provider.skip ?? ('unsupported' in mapped ? { reason: mapped.unsupported, file, range: yaml.rangeOf(prompt.path) } : undefined);
      const m = 'unsupported' in mapped ? provider : mapped;
      const data: PromptFileData = { name: prompt.label, model: m.model, provider: { ...m.provider }, modelParameters: m.parameters, messages: prompt.messages, ...m.request };
      const source: PromptSource = {
        messagePath: () => prompt.path,
        loc: (p) => (p[0] === 'model' || p[0] === 'provider' || p[0] === 'modelParameters' ? provider.path : prompt.path),
        trim: false,
        range: yaml.rangeOf(prompt.path),
        dialect: 'lenient',
        unsupportedProvider: !!provider.skip,
      };
      const p = finishPrompt(file, relFile, yaml, data, source, providerDefaults, diagnostics);
      if (!p) continue;
      keep(p);
      const suite: SuiteSpec = { name, kind: 'golden', file, relFile, range: yaml.rangeOf(prompt.path), prompt: p.spec, normalize: [], cases: [], ...(pf.derivedMetrics.length ? { derivedMetrics: pf.derivedMetrics.map((d) => ({ ...d, where: `${relFile}:${d.where}` })) } : {}) };
      const eligible = pf.tests.filter((t) => (!t.providers || t.providers.some((x) => matches(x, provider.label) || matches(x, provider.id))) && (!t.prompts || t.prompts.some((x) => matches(x, prompt.label))));
      const caseOf = (t: (typeof pf.tests)[number], first: Skip | undefined, extra: Partial<Pick<CaseInput, 'id' | 'name'>> = {}) => {
        const tyaml = t.yaml ?? yaml;
        return buildCase(p, tyaml, {
          id: `${relFile}::${name}::${t.key}`,
          name: t.name,
          suite: name,
          suiteKind: 'golden',
          description: t.description,
          tags: Object.entries(t.metadata ?? {}).map(([k, v]) => `${k}:${String(v)}`),
          relFile: rel(t.file),
          range: tyaml.rangeOf(t.path),
          vars: t.vars,
          varsPath: t.varsPath,
          // A skipped case is never run: its assertions are not prepared (one may be what it lacks).
          assertions: first ? [] : t.assertions.map(({ a, path: ap }) => ({ a, path: ap })),
          threshold: t.threshold,
          samples: pf.repeat,
          passRate: DEFAULT_PASS_RATE,
          normalize: [],
          ...(first ? { skip: { reason: first.reason, where: where(first) } } : {}),
          ...extra,
        }, diagnostics);
      };
      if (!prompt.conversation) {
        for (const t of eligible) {
          const spec = caseOf(t, skip ?? t.skips[0]);
          if (spec) suite.cases.push(spec);
        }
      } else {
        // A prompt over _conversation: each conversation is one case, its tests the turns in order.
        const lastUser = [...p.messages].reverse().find((m) => m.role === 'user');
        for (const group of conversations(eligible)) {
          const [first, ...rest] = group;
          const blocked = skip ?? group.flatMap((t) => t.skips)[0];
          const spec = caseOf(first, blocked, rest.length ? { name: `${first.name} (and ${rest.length} more turn${rest.length === 1 ? '' : 's'})` } : {});
          if (!spec || blocked) {
            if (spec) suite.cases.push(spec);
            continue;
          }
          const turns = rest.map((t) => {
            const tyaml = t.yaml ?? yaml;
            const assertions = t.assertions.flatMap(({ a, path: ap }) => prepareAssertion(a, t.vars, p.dialect, (sub, message) => diagnostics.push({ file: tyaml.file, range: tyaml.rangeOf([...ap, ...sub]), message, severity: 'error', code: 'assertion' })) ?? []);
            let message = '';
            try {
              message = lastUser ? renderTemplate(lastUser.content, t.vars, p.dialect) : '';
            } catch (e) {
              diagnostics.push({ file: tyaml.file, range: tyaml.rangeOf(t.varsPath), message: `${(e as Error).message} (turn '${t.name}')`, severity: 'error', code: 'template' });
            }
            return { message, assertions };
          });
          suite.cases.push({ ...spec, assertions: [], agent: { mocks: {}, maxSteps: DEFAULT_MAX_STEPS, turns, opening: spec.assertions } });
        }
      }
      suites.push(suite);
    }
  }
  return suites;
}

/** promptfoo's filters: an exact label or id, or a prefix ending in `*`. */
function matches(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}
