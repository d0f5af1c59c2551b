import * as path from 'node:path';
import { z } from 'zod';
import type { ResolvedConfig } from '../config';
import { Baselines, blocksGate, suitesWith, verdictsForRun } from '../evaluate';
import type { Project } from '../project';
import { latestResults } from '../runs';
import type { RegistryStore } from './folder';
import type { CaseSpec, PromptSpec, SuiteKind } from '../types/cases';

/** What a version's suites showed on its exact content hash, from the latest recorded runs. */
export interface VersionEvidence {
  contentHash: string;
  runIds: string[];
  suites: { name: string; kind: SuiteKind; cases: number; ran: number; minSamples: number; passing: number; regressed: number; blocking: number }[];
  regressions: number;
  /** The lowest judge agreement seen, when a judge graded the cases more than once. */
  judgeAgreement?: number;
  collectedAt: string;
}

/** An immutable published version. Its layout is documented in the README, for readers in any language. */
export interface VersionRecord {
  format: 1;
  prompt: string;
  number: number;
  contentHash: string;
  name: string;
  file: string;
  semver?: string;
  model: string;
  provider: string;
  messages: PromptSpec['template']['messages'];
  parameters: PromptSpec['template']['parameters'];
  responseFormat?: string;
  jsonSchema?: Record<string, unknown>;
  tools: PromptSpec['tools'];
  variables?: PromptSpec['variables'];
  author: string;
  message?: string;
  createdAt: string;
  sourceCommit?: string;
  evidence?: VersionEvidence;
}

export interface AuditEntry {
  at: string;
  actor: string;
  action: 'publish' | 'label' | 'rollback' | 'forced-label';
  version: number;
  label?: string;
  from?: number | null;
  reason?: string;
  /** A publish whose writer died after the version file and before this line: added by the next publish. */
  recovered?: true;
  /** For label moves: the evidence the move was judged on. */
  evidence?: VersionEvidence;
}

/** What evidence a label needs before it may point at a version. */
export interface LabelPolicy {
  /** Suites (by name or kind) that must have run completely on the version's content hash. */
  suites?: string[];
  /** At least this many samples for every case of those suites. */
  minSamples?: number;
  /** Whether regressions against the approved baselines are tolerated (default no). */
  allowRegressions?: boolean;
}

const MAX_VERSIONS_SCAN = 100_000;

/*
 * The registry's files are a documented layout other programs may write too, so each is checked
 * when read: the fields PromptGate relies on, with the rest kept as written.
 */
const VersionNumber = z.number().int().positive();
const VersionRecordSchema = z.looseObject({
  format: z.literal(1),
  prompt: z.string(),
  number: VersionNumber,
  contentHash: z.string().min(1),
  name: z.string(),
  file: z.string(),
  model: z.string(),
  provider: z.string(),
  messages: z.array(z.looseObject({ role: z.string(), content: z.string() })),
  parameters: z.record(z.string(), z.unknown()).optional(),
  tools: z.array(z.unknown()).default([]),
  author: z.string(),
  createdAt: z.string(),
});
const LabelsSchema = z.record(z.string(), VersionNumber);
const AuditEntrySchema = z.looseObject({
  at: z.string(),
  actor: z.string(),
  action: z.enum(['publish', 'label', 'rollback', 'forced-label']),
  version: VersionNumber,
  label: z.string().optional(),
  from: VersionNumber.nullable().optional(),
  reason: z.string().optional(),
});

export const registryKey = (prompt: PromptSpec) =>
  path
    .basename(prompt.file)
    .replace(/\.(?:prompt\.ya?ml|prompty|ya?ml)$/i, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^\.+/, '')
    .slice(0, 200) || 'prompt';

/** Gathers the evidence for a prompt's current content from the latest runs of its cases. */
export async function collectEvidence(project: Project, prompt: PromptSpec, config: ResolvedConfig, now = new Date()): Promise<VersionEvidence> {
  const cases = project.cases.filter((c) => c.prompt === prompt);
  const runOf = new Map<string, string>();
  const latest = await latestResults(config.runsDir, new Set(cases.map((c) => c.id)), runOf);
  const onThisHash = new Map([...latest].filter(([, rs]) => rs[0]?.promptVersionId === prompt.versionId));
  const ran = cases.filter((c) => onThisHash.has(c.id));
  const { baselines } = await Baselines.load(config.baselinesDir, suitesWith(project.suites, ran));
  const verdicts = new Map(verdictsForRun(ran, onThisHash, baselines, { policy: config.verdicts, sampling: config.sampling, completeSuites: new Set() }).map((v) => [v.caseId, v]));
  const bySuite = new Map<string, CaseSpec[]>();
  for (const c of cases) bySuite.set(c.suite, [...(bySuite.get(c.suite) ?? []), c]);
  const agreements = [...onThisHash.values()].flat().flatMap((r) => r.assertions.flatMap((a) => (a.judge && a.judge.samples > 1 ? [a.judge.agreement] : [])));
  const suites = [...bySuite.entries()].map(([name, list]) => {
    const vs = list.map((c) => verdicts.get(c.id)).filter((v) => v !== undefined);
    return {
      name,
      kind: list[0].suiteKind,
      cases: list.length,
      ran: vs.length,
      minSamples: vs.length === list.length ? Math.min(...vs.map((v) => v.current.total)) : 0,
      passing: vs.filter((v) => v.passing).length,
      regressed: vs.filter((v) => v.kind === 'regressed').length,
      blocking: vs.filter(blocksGate).length,
    };
  });
  return {
    contentHash: prompt.versionId,
    runIds: [...new Set([...onThisHash.keys()].map((id) => runOf.get(id)!))].sort(),
    suites,
    regressions: suites.reduce((s, x) => s + x.regressed, 0),
    judgeAgreement: agreements.length ? Math.min(...agreements) : undefined,
    collectedAt: now.toISOString(),
  };
}

/**
 * Why `evidence` does not satisfy `policy` (empty: it does). Without a policy a label needs every
 * suite of the prompt run on this content with the gate passed.
 */
export function policyProblems(evidence: VersionEvidence | undefined, policy: LabelPolicy | undefined): string[] {
  if (!evidence) return ['no evidence: run the suites with promptgate test on this content first'];
  const p = policy ?? {};
  const wanted = p.suites ?? evidence.suites.map((s) => s.name);
  const problems: string[] = [];
  for (const w of wanted) {
    const suites = evidence.suites.filter((s) => s.name === w || s.kind === w);
    if (!suites.length) problems.push(`suite '${w}' does not exist for this prompt`);
    for (const s of suites) {
      if (s.ran < s.cases) problems.push(`suite '${s.name}': ${s.cases - s.ran} of ${s.cases} cases have not run on content ${evidence.contentHash}`);
      else {
        if (p.minSamples && s.minSamples < p.minSamples) problems.push(`suite '${s.name}': ${s.minSamples} samples per case, the policy needs ${p.minSamples}`);
        if (!p.allowRegressions && s.regressed) problems.push(`suite '${s.name}': ${s.regressed} regressed`);
        if (s.blocking - s.regressed > 0) problems.push(`suite '${s.name}': ${s.blocking - s.regressed} failing or errored without an approved baseline`);
      }
    }
  }
  return problems;
}

/** A registered name: a file name in one folder of the registry, never a path out of it. */
const KEY = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;
/** A label: a plain name (no path, no `__proto__`). */
export const LABEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

const dir = (key: string) => {
  if (!KEY.test(key)) throw new Error(`'${key}' is not a registered prompt name (letters, digits, . _ and -, not starting with a dot)`);
  return `prompts/${key}`;
};

/** A registry over a store: immutable versions, movable labels, an append-only audit log. */
export class Registry {
  constructor(readonly store: RegistryStore) {}

  async versions(key: string): Promise<VersionRecord[]> {
    const files = (await this.store.list(`${dir(key)}/versions`)).filter((f) => /^\d+\.json$/.test(f));
    const out: VersionRecord[] = [];
    for (const f of files.slice(0, MAX_VERSIONS_SCAN)) {
      const text = await this.store.read(`${dir(key)}/versions/${f}`);
      if (text) out.push((this.parse(`${dir(key)}/versions/${f}`, text, VersionRecordSchema) as VersionRecord));
    }
    return out.sort((a, b) => a.number - b.number);
  }

  async labels(key: string): Promise<Record<string, number>> {
    const text = await this.store.read(`${dir(key)}/labels.json`);
    // No prototype: `constructor` or `toString` is a label name like any other, never Object's.
    return Object.assign(Object.create(null) as Record<string, number>, text ? this.parse(`${dir(key)}/labels.json`, text, LabelsSchema) : {});
  }

  async audit(key: string): Promise<AuditEntry[]> {
    const text = await this.store.read(`${dir(key)}/audit.jsonl`);
    return (text ?? '').split('\n').flatMap((l, i) => (l ? [(this.parse(`${dir(key)}/audit.jsonl:${i + 1}`, l, AuditEntrySchema) as AuditEntry)] : []));
  }

  /** Records a version; the same content published again is the same version, not a new one. */
  async publish(record: Omit<VersionRecord, 'number'>): Promise<{ version: VersionRecord; created: boolean }> {
    return this.store.transaction(`publish ${record.prompt}`, async (write) => {
      const versions = await this.versions(record.prompt);
      await this.repairAudit(write, record.prompt, versions);
      const same = versions.find((v) => v.contentHash === record.contentHash);
      if (same) {
        // Newer evidence for the same content replaces none of the record: versions are immutable.
        return { version: same, created: false };
      }
      const version: VersionRecord = { ...record, number: (versions.at(-1)?.number ?? 0) + 1 } as VersionRecord;
      await write(`${dir(record.prompt)}/versions/${version.number}.json`, `${JSON.stringify(version, null, 2)}\n`);
      await this.append(write, record.prompt, { at: record.createdAt, actor: record.author, action: 'publish', version: version.number });
      return { version, created: true };
    });
  }

  /** Points `label` at `version`; a forced move records its reason. */
  async setLabel(key: string, label: string, version: number, meta: { actor: string; at: string; forced?: string; evidence?: VersionEvidence }): Promise<{ from: number | null }> {
    if (!LABEL_NAME.test(label)) throw new Error(`'${label}' is not a label name (letters, digits, . _ and -, starting with a letter or digit)`);
    return this.store.transaction(`label ${key} ${label}`, async (write) => {
      if (!(await this.version(key, version))) throw new Error(`${key} has no version ${version}`);
      const labels = await this.labels(key);
      const from = labels[label] ?? null;
      await write(`${dir(key)}/labels.json`, `${JSON.stringify({ ...labels, [label]: version }, null, 2)}\n`);
      await this.append(write, key, { at: meta.at, actor: meta.actor, action: meta.forced ? 'forced-label' : 'label', version, label, from, ...(meta.forced ? { reason: meta.forced } : {}), ...(meta.evidence ? { evidence: meta.evidence } : {}) });
      return { from };
    });
  }

  /** Moves `label` back to the version it pointed at before its current one. */
  async rollback(key: string, label: string, meta: { actor: string; at: string }): Promise<{ from: number; to: number }> {
    return this.store.transaction(`rollback ${key} ${label}`, async (write) => {
      const labels = await this.labels(key);
      const current = labels[label];
      if (current === undefined) throw new Error(`${key} has no label '${label}'`);
      // Replay the label's moves as a stack: a move pushes its version, a rollback pops one. Rolling
      // back again keeps going back, it does not bounce between two versions.
      const stack: number[] = [];
      for (const e of await this.audit(key)) {
        if (e.label !== label) continue;
        if (e.action === 'rollback') stack.pop();
        else stack.push(e.version);
      }
      while (stack.length > 1 && stack[stack.length - 2] === current) stack.splice(stack.length - 2, 1);
      const previous = stack.length > 1 ? stack[stack.length - 2] : undefined;
      if (previous === undefined) throw new Error(`'${label}' of ${key} has no earlier version to roll back to (it points at version ${current})`);
      await write(`${dir(key)}/labels.json`, `${JSON.stringify({ ...labels, [label]: previous }, null, 2)}\n`);
      await this.append(write, key, { at: meta.at, actor: meta.actor, action: 'rollback', version: previous, label, from: current });
      return { from: current, to: previous };
    });
  }

  /** `name`, `name@3` or `name@production`. */
  async resolve(ref: string): Promise<VersionRecord> {
    const [key, at] = ref.split('@');
    // Only the one version file is read: pull runs in applications and CI, and versions accumulate.
    const numbers = (await this.store.list(`${dir(key)}/versions`)).filter((f) => /^\d+\.json$/.test(f)).map((f) => Number(f.slice(0, -5)));
    if (!numbers.length) throw new Error(`no prompt '${key}' in the registry at ${this.store.location}`);
    const n = at === undefined ? Math.max(...numbers) : /^\d+$/.test(at) ? Number(at) : (await this.labels(key))[at];
    if (n === undefined) throw new Error(`${key} has no label '${at}' (labels: ${Object.keys(await this.labels(key)).join(', ') || 'none'})`);
    const v = await this.version(key, n);
    if (!v) throw new Error(`${key} has no version ${n}`);
    return v;
  }

  /** One version record, or undefined. */
  async version(key: string, n: number): Promise<VersionRecord | undefined> {
    const text = await this.store.read(`${dir(key)}/versions/${n}.json`);
    return text ? (this.parse(`${dir(key)}/versions/${n}.json`, text, VersionRecordSchema) as VersionRecord) : undefined;
  }

  /** A registry file someone edited by hand or broke: the error names the file (and line of the audit log) and the field. */
  private parse<T>(rel: string, text: string, schema: z.ZodType<T>): T {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new Error(`${this.store.location}/${rel}: not valid JSON (${(err as Error).message})`);
    }
    const r = schema.safeParse(data);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new Error(`${this.store.location}/${rel}: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
    }
    return r.data;
  }

  /**
   * A writer killed between a version file and its audit line (folder backend) leaves a version the
   * log does not mention; the next publish, holding the lock, adds the missing lines from the records.
   */
  private async repairAudit(write: (rel: string, text: string) => Promise<void>, key: string, versions: VersionRecord[]): Promise<void> {
    const logged = new Set((await this.audit(key)).filter((e) => e.action === 'publish').map((e) => e.version));
    for (const v of versions) if (!logged.has(v.number)) await this.append(write, key, { at: v.createdAt, actor: v.author, action: 'publish', version: v.number, recovered: true });
  }

  /**
   * A mark that changes whenever any of these prompts changes (every change appends to its audit
   * log; a hand edit of the labels counts too), for stores that can stat cheaply; undefined where
   * they cannot (git: fetch instead).
   */
  async revision(keys: readonly string[]): Promise<string | undefined> {
    const mark = this.store.mark?.bind(this.store);
    if (!mark) return undefined;
    return (await Promise.all(keys.flatMap((k) => [mark(`${dir(k)}/audit.jsonl`), mark(`${dir(k)}/labels.json`)]))).join('|');
  }

  /** Which labels point at `contentHash`, which point elsewhere, and which version holds this content. */
  async status(key: string, contentHash: string): Promise<RegistryStatus> {
    return registryStatus(key, contentHash, await this.versions(key), await this.labels(key));
  }

  private async append(write: (rel: string, text: string) => Promise<void>, key: string, entry: AuditEntry): Promise<void> {
    const text = (await this.store.read(`${dir(key)}/audit.jsonl`)) ?? '';
    await write(`${dir(key)}/audit.jsonl`, `${text}${JSON.stringify(entry)}\n`);
  }
}

/** A prompt file against the registry: the labels on its content, and the drift of the others. */
export interface RegistryStatus {
  key: string;
  contentHash: string;
  /** The version with exactly this content, if it was published. */
  published?: number;
  latest?: number;
  labels: { label: string; version: number; contentHash: string; current: boolean }[];
}

/** The status from a prompt's versions and labels (the editor keeps those and recomputes on every edit). */
export function registryStatus(key: string, contentHash: string, versions: readonly Pick<VersionRecord, 'number' | 'contentHash'>[], labels: Record<string, number>): RegistryStatus {
  const byNumber = new Map(versions.map((v) => [v.number, v]));
  const list = Object.entries(labels)
    .map(([label, version]) => ({ label, version, contentHash: byNumber.get(version)?.contentHash ?? '', current: byNumber.get(version)?.contentHash === contentHash }))
    .sort((a, b) => labelOrder(a.label) - labelOrder(b.label) || a.label.localeCompare(b.label));
  return { key, contentHash, published: versions.find((v) => v.contentHash === contentHash)?.number, latest: versions.at(-1)?.number, labels: list };
}

const labelOrder = (l: string) => ({ production: 0, staging: 1 })[l] ?? 2;

/** `production v12`, or the drift: `production is v12; this file is an unpublished edit` (or `… is v13`). */
export function describeLabel(status: RegistryStatus, l: RegistryStatus['labels'][number]): string {
  if (l.current) return `${l.label} v${l.version}`;
  return `${l.label} is v${l.version}; this file is ${status.published === undefined ? 'an unpublished edit' : `v${status.published}`}`;
}

/** The record for a prompt's current content. */
export function versionRecord(prompt: PromptSpec, meta: { author: string; message?: string; at: string; sourceCommit?: string; evidence?: VersionEvidence }): Omit<VersionRecord, 'number'> {
  const t = prompt.template;
  return {
    format: 1,
    prompt: registryKey(prompt),
    contentHash: prompt.versionId,
    name: prompt.name,
    file: prompt.relFile,
    semver: prompt.version,
    model: prompt.model,
    provider: prompt.provider.id ?? 'openai',
    messages: t.messages,
    parameters: t.parameters,
    responseFormat: t.responseFormat,
    jsonSchema: t.jsonSchema,
    tools: prompt.tools,
    variables: prompt.variables,
    author: meta.author,
    message: meta.message,
    createdAt: meta.at,
    sourceCommit: meta.sourceCommit,
    evidence: meta.evidence,
  };
}

/** A version as readable text (front matter and role sections), for diffs between versions. */
export function versionText(v: VersionRecord, title = `# ${v.prompt} v${v.number} (content ${v.contentHash}${v.semver ? `, ${v.semver}` : ''})`): string {
  const head = [
    title,
    `model: ${v.model} (${v.provider})`,
    ...Object.entries(v.parameters ?? {}).filter(([, x]) => x !== undefined).map(([k, x]) => `${k}: ${JSON.stringify(x)}`),
    ...(v.responseFormat ? [`responseFormat: ${v.responseFormat}`] : []),
    ...(v.jsonSchema ? [`jsonSchema: ${JSON.stringify(v.jsonSchema)}`] : []),
    ...v.tools.map((t) => `tool: ${t.function.name}`),
  ];
  return `${head.join('\n')}\n${v.messages.map((m) => `\n${m.role}:\n${m.content.replace(/\n$/, '')}\n`).join('')}`;
}
