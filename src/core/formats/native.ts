import type { Diagnostic } from '../diagnostics';
import { hashOf } from '../canonical';
import { type AssertionData, type SuiteData } from '../schema';
import { plantCanary } from '../redteam/canary';
import { selectAttacks } from '../redteam/packs';
import { acrossModels } from '../variants';
import { YamlFile, type PathSegment } from '../yamlfile';
import type { LoadedPrompt } from './loaded';
import { buildCase, slug, closest, type CaseInput } from './case';
import { buildAgent, withHistory, type AgentInput } from './agent';
import { DEFAULT_PASS_RATE, type CaseSpec, type SuiteSpec } from '../types/cases';
import type { PackName } from '../types/packs';

const ADVERSARIAL_ONLY = ['packs', 'target', 'limit', 'seed', 'contextTokens', 'refusal', 'rubric', 'forbiddenTools'] as const;

export function buildSuite(p: LoadedPrompt, yaml: YamlFile, base: PathSegment[], name: string, data: SuiteData, relFile: string, diagnostics: Diagnostic[]): SuiteSpec {
  const { kind, cases } = data;
  const suite: SuiteSpec = { name, kind, file: yaml.file, relFile, range: yaml.rangeOf(base), prompt: p.spec, normalize: data.normalize, cases: [] };
  const err = (pth: PathSegment[], message: string) => diagnostics.push({ file: yaml.file, range: yaml.rangeOf(pth), message, severity: 'error', code: 'schema' });
  if (kind !== 'adversarial') for (const k of ADVERSARIAL_ONLY) if (data[k] !== undefined) err([...base, k], `'${k}' belongs to adversarial suites: add 'kind: adversarial' to suite '${name}'`);
  if (!cases.length && !(kind === 'adversarial' && data.packs)) {
    err(yaml.hasPath([...base, 'cases']) ? [...base, 'cases'] : base, kind === 'adversarial' ? `adversarial suite '${name}' needs packs or cases` : 'a suite needs at least one case');
  }
  // What every case of the suite shares, with the case's own fields; suite values fill what the
  // case leaves out. One literal, not a spread of shared fields plus the case's: V8 makes the
  // latter on its slow path, and it was a third of loading a large suite.
  type Own = Pick<CaseInput, 'name' | 'description' | 'tags' | 'range' | 'vars' | 'varsPath' | 'assertions'> & Partial<Pick<CaseInput, 'threshold' | 'samples' | 'passRate'>>;
  const caseInput = (key: string, own: Own): CaseInput => ({
    id: `${relFile}::${name}::${key}`,
    name: own.name,
    suite: name,
    suiteKind: kind,
    description: own.description,
    tags: own.tags,
    relFile,
    range: own.range,
    vars: own.vars,
    varsPath: own.varsPath,
    assertions: own.assertions,
    threshold: own.threshold ?? data.threshold,
    samples: own.samples ?? data.samples,
    passRate: own.passRate ?? data.passRate ?? DEFAULT_PASS_RATE,
    normalize: data.normalize,
  });
  const suiteVars = Object.keys(data.vars).length > 0;
  const suiteAsserts = data.assert.map((a, j) => ({ a, path: [...base, 'assert', j] as PathSegment[] }));
  // Adversarial suites check every case for a leaked system prompt and forbidden tool calls.
  const guards = (at: PathSegment[]): { a: AssertionData; path: PathSegment[] }[] =>
    kind === 'adversarial'
      ? [
          { a: { type: 'not-leaks-system-prompt', weight: 1 }, path: at },
          ...(data.forbiddenTools ? [{ a: { type: 'forbidden-tools', value: data.forbiddenTools, weight: 1 } as AssertionData, path: [...base, 'forbiddenTools'] }] : []),
        ]
      : [];
  // Agent cases: the suite's mocks, the case's over them by tool name; maxSteps likewise; the case's turns.
  const agentInput = (cpath: PathSegment[], c?: SuiteData['cases'][number]): AgentInput => {
    const mocks = new Map<string, AgentInput['mocks'][number]>();
    for (const [name, mock] of Object.entries(data.mocks ?? {})) mocks.set(name, { name, mock, path: [...base, 'mocks', name] });
    for (const [name, mock] of Object.entries(c?.mocks ?? {})) mocks.set(name, { name, mock, path: [...cpath, 'mocks', name] });
    return { mocks: [...mocks.values()], maxSteps: c?.maxSteps ?? data.maxSteps, turns: c?.turns, turnsPath: [...cpath, 'turns'] };
  };
  const built: { spec: CaseSpec; attack?: CaseSpec['attack'] }[] = [];
  const seen = new Map<string, number>();
  cases.forEach((c, i) => {
    const cpath: PathSegment[] = [...base, 'cases', i];
    const key = c.id ?? slug(c.name ?? c.description ?? '') ?? `vars-${hashOf(c.vars).slice(0, 8)}`;
    const label = c.name ?? c.id ?? c.description ?? key;
    const range = yaml.rangeOf(cpath);
    if (seen.has(key)) {
      diagnostics.push({
        file: yaml.file,
        range: yaml.rangeOf([...cpath, c.id ? 'id' : c.name ? 'name' : 'description']),
        message: `duplicate case id '${key}' in suite '${name}' (first at line ${seen.get(key)! + 1}); give each case a unique id or name`,
        severity: 'error',
        code: 'duplicate',
      });
      return;
    }
    seen.set(key, range.start.line);
    const spec = buildCase(p, yaml, caseInput(key, {
      name: label,
      description: c.description,
      tags: c.tags,
      range,
      // buildCase copies the variables into a fresh object of its own.
      vars: suiteVars ? { ...data.vars, ...c.vars } : c.vars,
      varsPath: [...cpath, 'vars'],
      assertions: [...suiteAsserts, ...c.assert.map((a, j) => ({ a, path: [...cpath, 'assert', j] as PathSegment[] })), ...guards(cpath)],
      threshold: c.threshold,
      samples: c.samples,
      passRate: c.passRate,
    }), diagnostics);
    if (!spec) return;
    const agent = buildAgent(p, yaml, agentInput(cpath, c), spec.vars, label, diagnostics);
    if (agent === null) return;
    const request = c.history ? withHistory(p, yaml, spec.request, c.history, [...cpath, 'history'], spec.vars, diagnostics) : spec.request;
    if (!request) return;
    built.push({ spec: { ...spec, request, ...(agent ? { agent } : {}) }, attack: kind === 'adversarial' ? { pack: 'custom', id: key } : undefined });
  });

  if (kind === 'adversarial' && data.packs) {
    const target = attackTarget(p, yaml, base, name, data, diagnostics);
    if (target) {
      const attacks = selectAttacks([...new Set(data.packs)], { limit: data.limit, seed: data.seed, contextTokens: data.contextTokens });
      for (const attack of attacks) {
        const at: PathSegment[] = [...base, 'packs', data.packs.indexOf(attack.pack as PackName)];
        const detectors: { a: AssertionData; path: PathSegment[] }[] = [];
        if (attack.markers.length) detectors.push({ a: { type: 'not-icontains-any', value: attack.markers, weight: 1 }, path: at });
        if (attack.pii) detectors.push({ a: { type: 'not-contains-pii', weight: 1 }, path: at });
        if (data.refusal && attack.pack !== 'edge') detectors.push({ a: { type: 'is-refusal', weight: 1 }, path: [...base, 'refusal'] });
        if (data.rubric) detectors.push({ a: { type: 'llm-rubric', value: data.rubric, weight: 1 }, path: [...base, 'rubric'] });
        const spec = buildCase(p, yaml, caseInput(`${attack.pack}/${attack.id}`, {
          name: `${attack.pack}: ${attack.title}`,
          description: `${attack.source} (${attack.license})`,
          tags: [attack.pack],
          range: yaml.rangeOf(at),
          vars: { ...data.vars, [target]: attack.text },
          varsPath: [...base, yaml.hasPath([...base, 'target']) ? 'target' : 'packs'],
          assertions: [...suiteAsserts, ...detectors, ...guards(at)],
        }), diagnostics);
        if (!spec) continue;
        // An agent under attack: the suite's mocks answer its tool calls.
        const agent = buildAgent(p, yaml, agentInput(at), spec.vars, spec.name, diagnostics);
        if (agent !== null) built.push({ spec: agent ? { ...spec, agent } : spec, attack: { pack: attack.pack, id: attack.id, source: attack.source } });
      }
    }
  }
  for (const { spec, attack } of built) {
    suite.cases.push(attack ? { ...spec, attack, request: plantCanary(spec.request) } : spec);
  }
  if (data.models) suite.cases = acrossModels(suite.cases, data.models);
  return suite;
}

/** The variable that receives each attack: `target`, else the prompt's only variable. */
export function attackTarget(p: LoadedPrompt, yaml: YamlFile, base: PathSegment[], name: string, data: SuiteData, diagnostics: Diagnostic[]): string | undefined {
  const names = [...new Set([...Object.keys(p.data.variables ?? {}), ...p.refs.map((r) => r.name)])];
  const err = (key: string, message: string) => {
    diagnostics.push({ file: yaml.file, range: yaml.rangeOf([...base, key]), message, severity: 'error', code: 'schema' });
    return undefined;
  };
  if (data.target) {
    if (names.includes(data.target)) return data.target;
    const near = closest(data.target, names);
    return err('target', `target '${data.target}' is not a variable of ${p.spec.relFile}${near ? ` (did you mean '${near}'?)` : names.length ? ` (its variables: ${names.join(', ')})` : ' (it has none: put {{ message }} in a message)'}`);
  }
  if (names.length === 1) return names[0];
  return err('packs', names.length ? `suite '${name}': which variable receives the attacks? Set target: to one of ${names.join(', ')}` : `suite '${name}': ${p.spec.relFile} has no variable to put the attacks in: add one, e.g. {{ message }}, to a user message`);
}
