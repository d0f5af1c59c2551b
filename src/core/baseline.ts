import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { z } from 'zod';
import { canonicalJson } from './canonical';
import type { Diagnostic } from './diagnostics';
import { writeFileAtomic } from './fsutil';
import { trajectoryLines } from './diff';
import { lazily } from './schema';
import { YamlFile } from './yamlfile';
import type { CaseResult } from './types/results';
import type { SampleOutcome } from './types/verdicts';

export const baselineFileSchema = lazily(() => {
  const sample = z
    .object({
      output: z.string(),
      /** Agent cases: the tool calls, one line each (trajectoryLines), diffed before the answer. */
      tools: z.array(z.string()).optional(),
      pass: z.boolean(),
      score: z.number(),
      assertions: z.array(z.object({ type: z.string(), pass: z.boolean(), score: z.number() }).strict()),
      /** The model that answered and its fingerprint, as the API reported them: a later change is drift. */
      model: z.string().optional(),
      fingerprint: z.string().optional(),
    })
    .strict();

  const entry = z
    .object({
      name: z.string(),
      /** Content hash of the prompt that produced these samples. */
      promptVersionId: z.string(),
      passed: z.number().int().min(0),
      total: z.number().int().min(1),
      samples: z.array(sample).min(1),
    })
    .strict()
    .superRefine((c, ctx) => {
      if (c.total !== c.samples.length) ctx.addIssue({ code: 'custom', path: ['total'], message: `total is ${c.total} but there are ${c.samples.length} samples` });
      const passed = c.samples.filter((s) => s.pass).length;
      if (c.passed !== passed) ctx.addIssue({ code: 'custom', path: ['passed'], message: `passed is ${c.passed} but ${passed} samples pass` });
    });

  return z
    .object({
      format: z.literal(1),
      prompt: z.string(),
      suite: z.string(),
      promptVersionId: z.string(),
      model: z.string(),
      cases: z.record(z.string(), entry),
    })
    .strict();
});

export type BaselineFile = z.infer<ReturnType<typeof baselineFileSchema>>;
export type BaselineCase = BaselineFile['cases'][string];

/** One file per prompt and suite: `<baselinesDir>/<prompt path>/<suite>.json`. */
export function baselinePath(baselinesDir: string, promptRel: string, suite: string): string {
  return path.join(baselinesDir, ...promptRel.split('/'), `${suite}.json`);
}

/** Reads a baseline; a missing file is no baseline, a corrupt or hand-broken one is located diagnostics. */
export async function readBaseline(file: string): Promise<{ baseline?: BaselineFile; diagnostics: Diagnostic[] }> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { diagnostics: [] };
    return { diagnostics: [{ file, message: `cannot read the baseline: ${(err as Error).message}`, severity: 'error', code: 'baseline' }] };
  }
  // JSON is YAML, so the YAML parser gives located errors for broken JSON too.
  const { yaml, diagnostics } = YamlFile.parse(file, text);
  if (!yaml) return { diagnostics: diagnostics.map((d) => ({ ...d, code: 'baseline' })) };
  const parsed = baselineFileSchema().safeParse(yaml.data);
  if (!parsed.success) return { diagnostics: yaml.schemaDiagnostics(parsed.error).map((d) => ({ ...d, message: `baseline: ${d.message}`, code: 'baseline' })) };
  return { baseline: parsed.data, diagnostics: [] };
}

/** Canonical JSON (sorted keys, no timestamps), written atomically, so it diffs cleanly in review. */
export async function writeBaseline(file: string, baseline: BaselineFile): Promise<void> {
  await writeFileAtomic(file, `${canonicalJson(baseline, 2)}\n`);
}

/** The baseline record of one case from its run results; errored and skipped samples are left out. */
export function baselineCaseFrom(results: readonly CaseResult[]): BaselineCase | undefined {
  const versionId = results[0]?.promptVersionId ?? '';
  const samples = [...results]
    .filter((r) => r.status === 'passed' || r.status === 'failed')
    .sort((a, b) => a.sample - b.sample)
    .map((r) => ({
      output: r.output ?? '',
      ...(r.steps ? { tools: trajectoryLines(r.steps) } : {}),
      pass: r.status === 'passed',
      score: r.score,
      assertions: r.assertions.map((a) => ({ type: a.type, pass: a.pass, score: a.score })),
      ...(r.servedModel ? { model: r.servedModel } : {}),
      ...(r.fingerprint ? { fingerprint: r.fingerprint } : {}),
    }));
  if (!samples.length) return undefined;
  return { name: results[0].name, promptVersionId: versionId, passed: samples.filter((s) => s.pass).length, total: samples.length, samples };
}

export function baselineOutcomes(c: BaselineCase): SampleOutcome[] {
  return c.samples.map((s) => ({ pass: s.pass, assertions: s.assertions }));
}

export function resultOutcomes(results: readonly CaseResult[], perAssertion = true): SampleOutcome[] {
  return results
    .filter((r) => r.status !== 'skipped')
    .map((r) => (perAssertion ? { pass: r.status === 'passed', errored: r.status === 'errored', assertions: r.assertions.map((a) => ({ type: a.type, pass: a.pass })) } : r.status === 'passed' ? PASSED : r.status === 'errored' ? ERRORED : FAILED));
}

/**
 * Samples without their assertions, for a case with no baseline: nothing compares them assertion
 * by assertion (the flip driver needs a baseline), and a 100,000-case run's verdicts made them all
 * at once, some 25 MB for a moment.
 */
const PASSED: SampleOutcome = Object.freeze({ pass: true, errored: false, assertions: Object.freeze([]) as unknown as SampleOutcome['assertions'] });
const FAILED: SampleOutcome = Object.freeze({ ...PASSED, pass: false });
const ERRORED: SampleOutcome = Object.freeze({ ...PASSED, pass: false, errored: true });
