import * as path from 'node:path';
import type { ResolvedConfig } from '../config';
import type { Project } from '../project';
import { collectEvidence, policyProblems, versionRecord, type LabelPolicy, type Registry, type VersionEvidence, type VersionRecord } from './registry';
import type { PromptSpec } from '../types/cases';

// Loaded on first use: only registry commands run git, and every CLI start would pay for it.
const childProcess = () => require('node:child_process') as typeof import('node:child_process');

/** One line per suite: what ran on this content and how it went. */
export function evidenceSummary(e: VersionEvidence): string {
  return e.suites.map((s) => `${s.name}: ${s.ran}/${s.cases} ran, ≥${s.minSamples} samples, ${s.passing} passing, ${s.regressed} regressed`).join('; ') || 'no suites';
}

/** What a label's policy asks for, in words. */
export function describePolicy(policy: LabelPolicy | undefined): string {
  const p = policy ?? {};
  return [
    `${p.suites?.length ? `suites ${p.suites.join(', ')}` : 'every suite'} run on this exact content`,
    ...(p.minSamples ? [`at least ${p.minSamples} samples per case`] : []),
    p.allowRegressions ? 'regressions tolerated' : 'no regressions',
    'no failing or errored case without an approved baseline',
  ].join('; ');
}

/** The commit the prompt's repository is at (with "+changes" when the prompt's folder is modified), if it is in one. */
export function sourceCommit(dir: string): Promise<string | undefined> {
  return new Promise((resolve) =>
    childProcess().execFile('git', ['rev-parse', 'HEAD'], { cwd: dir }, (err, stdout) => {
      if (err) return resolve(undefined);
      childProcess().execFile('git', ['status', '--porcelain', '--', '.'], { cwd: dir }, (err2, status) => resolve(`${String(stdout).trim()}${!err2 && String(status).trim() ? '+changes' : ''}`));
    }),
  );
}

export interface ActMeta {
  actor: string;
  at: Date;
  message?: string;
}

/** Publishes the prompt's current content with its evidence (the same content again: the same version). */
export async function publishPrompt(registry: Registry, prompt: PromptSpec, evidence: VersionEvidence, meta: ActMeta): Promise<{ version: VersionRecord; created: boolean }> {
  return registry.publish(versionRecord(prompt, { author: meta.actor, message: meta.message, at: meta.at.toISOString(), evidence, sourceCommit: await sourceCommit(path.dirname(prompt.file)) }));
}

export type PromoteResult =
  | { ok: false; label: string; problems: string[]; evidence: VersionEvidence }
  | { ok: true; label: string; problems: string[]; evidence: VersionEvidence; version: VersionRecord; created: boolean; from: number | null; forced?: string };

/** What `label`'s policy misses in `evidence`, and the policy in words (no I/O: one evidence serves every label). */
export function labelCheck(evidence: VersionEvidence, config: ResolvedConfig, label: string): { problems: string[]; policy: string } {
  const policy = config.registry.labels[label];
  return { problems: policyProblems(evidence, policy), policy: describePolicy(policy) };
}

/** What a promotion would meet: the evidence for this content and what the label's policy misses. */
export async function promotionCheck(project: Project, prompt: PromptSpec, config: ResolvedConfig, label: string, now: Date): Promise<{ evidence: VersionEvidence; problems: string[]; policy: string }> {
  const evidence = await collectEvidence(project, prompt, config, now);
  return { evidence, ...labelCheck(evidence, config, label) };
}

/**
 * Publishes if needed and moves `label` to the prompt's content, when its evidence meets the label's
 * policy; `force` (the reason, for the audit log) moves it anyway. The CLI and the editor both call this.
 */
export async function promotePrompt(registry: Registry, project: Project, prompt: PromptSpec, config: ResolvedConfig, opts: ActMeta & { label: string; force?: string }): Promise<PromoteResult> {
  const { evidence, problems } = await promotionCheck(project, prompt, config, opts.label, opts.at);
  if (problems.length && !opts.force) return { ok: false, label: opts.label, problems, evidence };
  const { version, created } = await publishPrompt(registry, prompt, evidence, opts);
  const forced = problems.length ? opts.force : undefined;
  const { from } = await registry.setLabel(version.prompt, opts.label, version.number, { actor: opts.actor, at: opts.at.toISOString(), forced, evidence });
  return { ok: true, label: opts.label, problems, evidence, version, created, from, forced };
}
