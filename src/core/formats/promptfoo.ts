/**
 * promptfoo configurations (`promptfooconfig.yaml`, or any YAML named on the command line) read as
 * they are: prompts × providers become PromptGate prompts, each with one suite holding the tests.
 * A broken file is a located error. A construct PromptGate does not run (a provider, an assertion
 * type, a test option) is not: the cases that use it are skipped, each with the reason and where
 * it is written, and the rest of the file runs.
 */
import * as path from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { vendor } from '../vendor';
import { z } from 'zod';
import type { Diagnostic } from '../diagnostics';
import { YamlFile, type PathSegment } from '../yamlfile';
import { oneLine } from './case';
import { assertionFromShorthand, isJudged, PROMPTFOO_ASSERTION_TYPES, readPythonFiles, rubricMessages, textual, withRubricPrompt } from './promptfoo-assertions';
import { mapProvider } from './promptfoo-providers';
import { fileRef, readPrompts } from './promptfoo-prompts';
import { expressionProblem } from '../derived';
import type { DerivedMetric } from '../types/cases';
import { HARMLESS_EVALUATE, HARMLESS_KEYS, promptfooSchemas, TEST_OPTIONS, type PfProvider, type PfTest, type PromptfooConfig, type PromptfooProject, type PromptfooTest, type Skip } from './promptfoo-schema';

export const PROMPTFOO_FILE = /^promptfooconfig\.ya?ml$/i;

type Read = (file: string) => Promise<string>;

const slug = (t: string) => t.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || undefined;

/** Reads the config's prompts, providers and tests (with the files they name). */
export async function readPromptfoo(yaml: YamlFile, config: PromptfooConfig, read: Read, knownTypes: readonly string[], diagnostics: Diagnostic[]): Promise<PromptfooProject> {
  const dir = path.dirname(yaml.file);
  const err = (at: PathSegment[], message: string, file = yaml, severity: 'error' | 'warning' = 'error') => diagnostics.push({ file: file.file, range: file.rangeOf(at), message, severity, code: 'promptfoo' });
  /** Reports, once where it is written, something PromptGate does not run; the cases that use it are skipped. */
  const skipAt = (at: PathSegment[], reason: string, file = yaml): Skip => {
    const range = file.rangeOf(at);
    diagnostics.push({ file: file.file, range, message: `${reason}; the cases that use it are skipped`, severity: 'warning', code: 'unsupported' });
    return { reason, file: file.file, range };
  };
  const record = config as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (HARMLESS_KEYS.has(key)) continue;
    const why = key === 'redteam' ? "promptfoo's red team is not run (PromptGate's adversarial suites cover it)" : key === 'extensions' ? 'extension hooks are not run' : key === 'nunjucksFilters' ? 'custom nunjucks filters are not loaded (templates that use them fail to render)' : key === 'env' ? 'env is not applied (set the variables in the environment)' : 'not read by PromptGate';
    err([key], `'${key}': ${why}`, yaml, 'warning');
  }
  // derivedMetrics: mathjs expressions (a syntax error is located now); a function in a script is not run.
  const derivedMetrics: DerivedMetric[] = [];
  for (const [i, d] of (config.derivedMetrics ?? []).entries()) {
    const at: PathSegment[] = ['derivedMetrics', i, 'value'];
    if (typeof d.value !== 'string') {
      err(at, `derived metric '${d.name}': a function is not run by PromptGate (write it as an expression)`, yaml, 'warning');
      continue;
    }
    const problem = expressionProblem(d.value);
    if (problem) err(at, `derived metric '${d.name}': ${problem}`);
    else derivedMetrics.push({ name: d.name, expression: d.value, where: String(yaml.rangeOf(at).start.line + 1) }); // the line: promptfooSuites adds the file
  }
  for (const key of Object.keys(config.evaluateOptions ?? {})) if (!HARMLESS_EVALUATE.has(key)) err(['evaluateOptions', key], `evaluateOptions.${key} is not read by PromptGate`, yaml, 'warning');

  const prompts = await readPrompts(config, { dir, read, err: (at, message) => err(at, message), skipAt: (at, reason) => skipAt(at, reason) });

  // Providers: every id is kept, so its cases are listed; those PromptGate does not call are skipped.
  const providers: PfProvider[] = [];
  const providerList = typeof config.providers === 'string' ? [config.providers] : config.providers;
  for (const [i, entry] of providerList.entries()) {
    const at: PathSegment[] = typeof config.providers === 'string' ? ['providers'] : typeof entry === 'string' ? ['providers', i] : ['providers', i, 'id'];
    const id = typeof entry === 'string' ? entry : entry.id;
    const pconfig = { ...(typeof entry === 'string' ? {} : entry.config) };
    const label = (typeof entry === 'string' ? undefined : entry.label) ?? id;
    // response_format, tools and functions as file://schema.json (or .yaml), read as promptfoo does.
    let unreadable = false;
    for (const key of ['response_format', 'tools', 'functions']) {
      const ref = fileRef(pconfig[key]);
      if (!ref) continue;
      try {
        const text = await read(path.resolve(dir, ref));
        pconfig[key] = /\.ya?ml$/i.test(ref) ? loadYaml(text) : JSON.parse(text);
      } catch (e) {
        err(['providers', i, 'config', key], `cannot read ${ref}: ${(e as Error).message}`);
        unreadable = true;
      }
    }
    if (unreadable) continue;
    const mapped = mapProvider(id, pconfig);
    if ('unsupported' in mapped) {
      providers.push({ label, model: id, provider: { id: 'unsupported' }, parameters: {}, request: {}, path: at, id, config: pconfig, skip: skipAt(at, mapped.unsupported) });
      continue;
    }
    providers.push({ label, ...mapped, path: at, id, config: pconfig, prompts: typeof entry === 'string' ? undefined : entry.prompts });
  }

  // Tests: inline, or file:// YAML, JSON or CSV (the whole list or one entry).
  const tests: PfTest[] = [];
  const templates = config.assertionTemplates ?? {};
  const ownTypes = new Set(knownTypes);
  /** A test's assertions: those PromptGate runs, and skips for the rest. assert-sets without a threshold count as their members. */
  const assertionsOf = (file: YamlFile | undefined, at: PathSegment[], list: unknown[] | undefined, skips: Skip[]): PfTest['assertions'] => {
    const out: PfTest['assertions'] = [];
    const f = file ?? yaml;
    (list ?? []).forEach((a, j) => {
      const p = [...at, j];
      const ref = (a as { $ref?: string }).$ref;
      let data = a as Record<string, unknown>;
      if (ref !== undefined) {
        const name = /^#\/assertionTemplates\/(.+)$/.exec(ref)?.[1];
        if (!name || !templates[name]) {
          err(p, `$ref ${ref} names no assertionTemplates entry`, f);
          return;
        }
        data = templates[name];
      }
      const { type, value, threshold, weight, metric, provider, transform, rubricPrompt, ...rest } = data as Record<string, unknown>;
      const t = String(type);
      if (t === 'assert-set') {
        const { assert: members, ...setRest } = rest as { assert?: unknown[] };
        const extra = Object.keys(setRest).filter((k) => k !== 'config');
        if (threshold !== undefined || weight !== undefined || extra.length) skips.push(skipAt(p, `this assert-set has ${threshold !== undefined ? 'a threshold' : weight !== undefined ? 'a weight' : `'${extra[0]}'`}, which PromptGate does not apply to a set`, f));
        else out.push(...assertionsOf(file, [...p, 'assert'], members, skips).map((x) => (metric && !x.a.metric ? { ...x, a: { ...x.a, metric: metric as string } } : x)));
        return;
      }
      const base = t.replace(/^not-/, '');
      if (!ownTypes.has(t.startsWith('not-') && !ownTypes.has(t) ? base : t) && !ownTypes.has(base)) {
        if (PROMPTFOO_ASSERTION_TYPES.includes(base)) skips.push(skipAt([...p, 'type'], `assertion '${t}' is not run by PromptGate`, f));
        else out.push({ a: { type: t, weight: 1 }, path: p, yaml: file }); // unknown to both: buildCase reports it, with a suggestion
        return;
      }
      const unknownKeys = Object.keys(rest).filter((k) => rest[k] !== undefined);
      if (unknownKeys.length) {
        skips.push(skipAt([...p, unknownKeys[0]], `assertion field '${unknownKeys[0]}' is not applied by PromptGate`, f));
        return;
      }
      if (value === undefined && (base === 'model-graded-closedqa' || base === 'factuality')) {
        skips.push(skipAt([...p, 'type'], `'${t}' without a value is not run by PromptGate`, f));
        return;
      }
      let judged = textual(base, value);
      if (rubricPrompt !== undefined) {
        const prompt = rubricMessages(rubricPrompt);
        if (base !== 'llm-rubric' || !prompt) {
          skips.push(skipAt([...p, 'rubricPrompt'], prompt ? `a rubricPrompt on '${t}' is not applied by PromptGate (it is on llm-rubric)` : 'rubricPrompt is not a list of {role, content} messages or a text', f));
          return;
        }
        judged = { ...(typeof value === 'string' ? { rubric: value } : {}), prompt };
      } else if (base === 'llm-rubric' && value === undefined) judged = {}; // promptfoo grades against an empty rubric, or the test's rubricPrompt
      out.push({ a: { type: t, value: judged, threshold: threshold as number | undefined, weight: (weight as number | undefined) ?? 1, metric: metric as string | undefined, provider: typeof provider === 'string' ? provider : undefined, transform: transform as string | string[] | undefined }, path: p, yaml: file });
      if (provider !== undefined && typeof provider !== 'string') skips.push(skipAt([...p, 'provider'], 'a grader given as an object is not read by PromptGate (name it by id)', f));
    });
    return out;
  };
  const loadVars = async (vars: Record<string, unknown> | string | undefined, file: YamlFile | undefined, at: PathSegment[], skips: Skip[]): Promise<Record<string, unknown>> => {
    const f = file ?? yaml;
    if (typeof vars === 'string') {
      const ref = fileRef(vars);
      const loaded = ref && /\.(ya?ml|json)$/i.test(ref) ? await readData(ref, at, f) : undefined;
      if (!ref) err(at, 'vars is a mapping or file://PATH', f);
      else if (!/\.(ya?ml|json)$/i.test(ref)) skips.push(skipAt(at, `vars from ${ref}: PromptGate reads variables from YAML and JSON files`, f));
      else if (loaded && (typeof loaded !== 'object' || Array.isArray(loaded))) err(at, `${ref} is not a mapping of variables`, f);
      return (loaded as Record<string, unknown> | undefined) ?? {};
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(vars ?? {})) {
      const ref = fileRef(v);
      if (!ref) {
        out[k] = v;
        continue;
      }
      if (/\.(js|ts|py|mjs|cjs)(:\w+)?$/i.test(ref)) {
        skips.push(skipAt([...at, k], `variable '${k}' comes from the script ${ref}, which PromptGate does not run`, f));
        continue;
      }
      try {
        const text = await read(path.resolve(dir, ref));
        out[k] = /\.json$/i.test(ref) ? JSON.parse(text) : /\.ya?ml$/i.test(ref) ? loadYaml(text) : text;
      } catch (e) {
        err([...at, k], `variable '${k}': cannot read ${ref}: ${(e as Error).message}`, f);
      }
    }
    return out;
  };
  const readData = async (ref: string, at: PathSegment[], f: YamlFile): Promise<unknown> => {
    try {
      const text = await read(path.resolve(dir, ref));
      return /\.json$/i.test(ref) ? JSON.parse(text) : loadYaml(text);
    } catch (e) {
      err(at, `cannot read ${ref}: ${(e as Error).message}`, f);
      return undefined;
    }
  };
  const optionsOf = (t: PromptfooTest, file: YamlFile | undefined, at: PathSegment[], skips: Skip[]) => {
    const f = file ?? yaml;
    for (const k of Object.keys(t.options ?? {})) if (!TEST_OPTIONS.has(k)) skips.push(skipAt([...at, 'options', k], `test option '${k}' is not applied by PromptGate`, f));
    for (const k of Object.keys(t)) {
      if (['description', 'vars', 'assert', 'threshold', 'metadata', 'options', 'providers', 'prompts'].includes(k)) continue;
      // A field promptfoo has but PromptGate does not apply skips the test; one promptfoo does not know, it ignores, and so does PromptGate.
      if (['provider', 'providerOutput', 'assertScoringFunction'].includes(k)) skips.push(skipAt([...at, k], `test field '${k}' is not applied by PromptGate`, f));
      else err([...at, k], `test field '${k}' is not one promptfoo reads; it is ignored, as promptfoo ignores it`, f, 'warning');
    }
    const rubricPrompt = t.options?.rubricPrompt === undefined ? undefined : rubricMessages(t.options.rubricPrompt);
    if (t.options?.rubricPrompt !== undefined && !rubricPrompt) skips.push(skipAt([...at, 'options', 'rubricPrompt'], 'rubricPrompt is not a list of {role, content} messages or a text', f));
    return { rubricPrompt, grader: typeof t.options?.provider === 'string' ? t.options.provider : undefined, outputTransform: typeof t.options?.transform === 'string' ? t.options.transform : undefined, keepLists: t.options?.disableVarExpansion === true };
  };
  const fromTest = async (t: PromptfooTest, file: YamlFile | undefined, fileName: string, at: PathSegment[], index: number): Promise<PfTest> => {
    const skips: Skip[] = [];
    const vars = await loadVars(t.vars, file, [...at, 'vars'], skips);
    const { grader, outputTransform, keepLists, rubricPrompt } = optionsOf(t, file, at, skips);
    const assertions = withRubricPrompt(assertionsOf(file, [...at, 'assert'], t.assert, skips).map((x) => (grader && !x.a.provider && isJudged(x.a.type) ? { ...x, a: { ...x.a, provider: grader } } : x)), rubricPrompt);
    const key = (t.description && slug(t.description)) ?? `test-${index + 1}`;
    return { yaml: file, file: fileName, path: at, key, name: t.description ?? `test ${index + 1}`, description: t.description, vars, varsPath: [...at, 'vars'], assertions, threshold: t.threshold, providers: t.providers, prompts: t.prompts, metadata: t.metadata, skips, keepLists, outputTransform, noDefaultAsserts: t.options?.disableDefaultAsserts === true };
  };
  const fromFile = async (ref: string, at: PathSegment[], into: PfTest[]): Promise<void> => {
    const full = path.resolve(dir, ref);
    if (/\.(js|cjs|mjs|ts|py)(:\w+)?$/i.test(ref) || /^(sheets|https?):/.test(ref)) {
      err(at, `tests ${ref}: generated or remote tests are not read by PromptGate (write them to a YAML, JSON or CSV file)`, yaml, 'warning');
      return;
    }
    let text: string;
    try {
      text = await read(full);
    } catch (e) {
      err(at, `cannot read tests ${ref}: ${(e as Error).message}`);
      return;
    }
    if (/\.csv$/i.test(ref)) {
      let rows: Record<string, string>[];
      try {
        rows = vendor.csvParse()(text, { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
      } catch (e) {
        err(at, `${ref}: ${(e as Error).message}`);
        return;
      }
      rows.forEach((row, r) => {
        const vars: Record<string, unknown> = {};
        const assertions: PfTest['assertions'] = [];
        const metadata: Record<string, unknown> = {};
        const skips: Skip[] = [];
        let description: string | undefined;
        let threshold: number | undefined;
        for (const [col, value] of Object.entries(row)) {
          if (col.startsWith('__expected')) {
            if (!value.trim()) continue;
            const a = assertionFromShorthand(value, knownTypes);
            if ('unsupported' in a) skips.push(skipAt(at, `${ref} row ${r + 2}: ${a.unsupported}`));
            else assertions.push({ a, path: at });
          } else if (col === '__description') description = value || undefined;
          else if (col === '__threshold') threshold = value ? Number(value) : undefined;
          else if (col.startsWith('__metadata:')) metadata[col.slice('__metadata:'.length)] = value;
          else if (col === '__metric') assertions.forEach((x) => (x.a.metric = value));
          else if (col.startsWith('__')) skips.push(skipAt(at, `${ref}: column '${col}' is not read by PromptGate`));
          else vars[col] = value;
        }
        if (threshold !== undefined && Number.isNaN(threshold)) err(at, `${ref} row ${r + 2}: __threshold is not a number`);
        // Located at the config's tests entry: a CSV has no positions PromptGate keeps.
        into.push({ file: yaml.file, path: at, key: (description && slug(description)) ?? `row-${r + 2}`, name: description ?? `${path.basename(ref)} row ${r + 2}`, description, vars, varsPath: at, assertions, threshold, metadata, skips });
      });
      return;
    }
    if (!/\.(ya?ml|json|jsonl)$/i.test(ref)) {
      err(at, `tests ${ref}: PromptGate reads tests from YAML, JSON, JSONL and CSV files`);
      return;
    }
    let data: unknown;
    let tf: YamlFile | undefined;
    if (/\.jsonl$/i.test(ref)) {
      try {
        data = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
      } catch (e) {
        err(at, `${ref}: ${(e as Error).message}`);
        return;
      }
    } else {
      const parsed = YamlFile.parse(full, text);
      diagnostics.push(...parsed.diagnostics);
      tf = parsed.yaml;
      if (!tf) return;
      data = tf.data;
    }
    const list = z.array(promptfooSchemas().test).safeParse(Array.isArray(data) ? data : [data]);
    if (!list.success) {
      if (tf) diagnostics.push(...tf.schemaDiagnostics(list.error));
      else err(at, `${ref}: ${list.error.issues[0]?.message}`);
      return;
    }
    for (const [k, t] of list.data.entries()) into.push(await fromTest(t, tf, full, Array.isArray(data) ? [k] : [], into.length));
  };
  const readList = async (list: PromptfooConfig['tests'], at: PathSegment[], into: PfTest[]) => {
    if (typeof list === 'string') {
      const ref = fileRef(list);
      if (ref) await fromFile(ref, at, into);
      else err(at, 'tests is a list or file://PATH');
      return;
    }
    for (const [i, t] of (list ?? []).entries()) {
      if (typeof t === 'string') {
        const ref = fileRef(t);
        if (ref) await fromFile(ref, [...at, i], into);
        else err([...at, i], 'a tests entry is a test or file://PATH');
      } else into.push(await fromTest(t, yaml, yaml.file, [...at, i], into.length));
    }
  };
  await readList(config.tests, ['tests'], tests);

  // Scenarios: each test of a scenario once per entry of its config, the config's variables under the test's.
  for (const [si, sc] of (config.scenarios ?? []).entries()) {
    if (typeof sc === 'string') {
      err(['scenarios', si], 'scenarios from files are not read by PromptGate', yaml, 'warning');
      continue;
    }
    const configs: PfTest[] = [];
    for (const [ci, c] of sc.config.entries()) configs.push(await fromTest(c, yaml, yaml.file, ['scenarios', si, 'config', ci], ci));
    const own: PfTest[] = [];
    for (const [ti, t] of sc.tests.entries()) own.push(await fromTest(t, yaml, yaml.file, ['scenarios', si, 'tests', ti], ti));
    const prefix = (sc.description && slug(sc.description)) ?? `scenario-${si + 1}`;
    configs.forEach((c, ci) => {
      for (const t of own) {
        tests.push({
          ...t,
          key: `${prefix}-${ci + 1}-${t.key}`,
          name: `${sc.description ?? `scenario ${si + 1}`} ${ci + 1}: ${t.name}`,
          vars: { ...c.vars, ...t.vars },
          assertions: [...c.assertions, ...t.assertions],
          threshold: t.threshold ?? c.threshold,
          metadata: { ...c.metadata, ...t.metadata },
          skips: [...c.skips, ...t.skips],
        });
      }
    });
  }

  // defaultTest: its variables under each test's, its assertions before each test's.
  let d: PromptfooTest | undefined;
  let dyaml = yaml;
  let dpath: PathSegment[] = ['defaultTest'];
  if (typeof config.defaultTest === 'string') {
    const ref = fileRef(config.defaultTest);
    const loaded = ref ? await readData(ref, ['defaultTest'], yaml) : undefined;
    const parsed = promptfooSchemas().test.safeParse(loaded ?? {});
    if (!ref) err(['defaultTest'], 'defaultTest is a test or file://PATH');
    else if (!parsed.success) err(['defaultTest'], `${ref}: ${parsed.error.issues[0]?.message}`);
    else {
      d = parsed.data;
      // Located at the config's defaultTest entry: positions inside the file are not kept.
      dyaml = yaml;
      dpath = [];
    }
  } else d = config.defaultTest;
  if (d) {
    const dskips: Skip[] = [];
    const at = (p: PathSegment[]): PathSegment[] => (dpath.length ? [...dpath, ...p] : ['defaultTest']);
    const dv = await loadVars(d.vars, dyaml, at(['vars']), dskips);
    const da = assertionsOf(dyaml, at(['assert']), d.assert, dskips);
    const { grader, outputTransform, keepLists, rubricPrompt } = optionsOf(d, dyaml, at([]).length > 1 ? at([]) : ['defaultTest'], dskips);
    for (const t of tests) {
      t.vars = { ...dv, ...t.vars };
      t.assertions = withRubricPrompt([...(t.noDefaultAsserts ? [] : da), ...t.assertions].map((x) => (grader && !x.a.provider && isJudged(x.a.type) ? { ...x, a: { ...x.a, provider: grader } } : x)), rubricPrompt);
      t.outputTransform ??= outputTransform;
      t.threshold ??= d.threshold;
      t.skips = [...dskips, ...t.skips];
      t.keepLists ||= keepLists;
    }
  }

  // options.transform changes the output every assertion of the test sees: first it, then the assertion's own.
  for (const t of tests) {
    const first = t.outputTransform;
    if (first) t.assertions = t.assertions.map((x) => ({ ...x, a: { ...x.a, transform: x.a.transform ? [first, ...[x.a.transform].flat()] : first } }));
  }

  // python assertions from files (file://check.py:fn): read here, through the project's reader.
  await readPythonFiles(tests, (f) => read(path.resolve(dir, f)), (x, message) => err([...x.path, 'value'], message, x.yaml ?? yaml));

  // Variables given as lists: one test per combination, as promptfoo expands them.
  const expanded: PfTest[] = [];
  for (const t of tests) {
    const lists = t.keepLists ? [] : Object.entries(t.vars).filter(([, v]) => Array.isArray(v) && v.length > 0);
    if (!lists.length) {
      expanded.push(t);
      continue;
    }
    let combos: Record<string, unknown>[] = [{}];
    for (const [k, values] of lists) combos = combos.flatMap((c) => (values as unknown[]).map((v) => ({ ...c, [k]: v })));
    combos.forEach((c, i) => expanded.push({ ...t, key: `${t.key}-${i + 1}`, name: `${t.name} [${Object.values(c).map((v) => oneLine(String(v), 24)).join(', ')}]`, vars: { ...t.vars, ...c } }));
  }

  // Duplicate keys get a number, so ids stay unique and stable while the order holds.
  const seen = new Map<string, number>();
  for (const t of expanded) {
    const n = (seen.get(t.key) ?? 0) + 1;
    seen.set(t.key, n);
    if (n > 1) t.key = `${t.key}-${n}`;
  }
  return { derivedMetrics, prompts, providers, tests: expanded, repeat: config.evaluateOptions?.repeat, concurrency: config.evaluateOptions?.maxConcurrency };
}
