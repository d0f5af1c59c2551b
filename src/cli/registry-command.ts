import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import {
  Registry,
  describeLabel,
  openRegistry as openCoreRegistry,
  registryActor,
  collectEvidence,
  evidenceSummary,
  findProjectRoot,
  loadConfig,
  promotePrompt,
  publishPrompt,
  registryKey,
  versionText,
  writeFileAtomic,
  type PromptSpec,
  type ResolvedConfig,
} from '../core';
import { createTwoFilesPatch } from 'diff';
import { EXIT, colors, type CliIO } from './io';
import { loadForCli, type Loaded } from './load';

export interface RegistryOptions {
  registry?: string;
}

function openRegistry(io: CliIO, config: ResolvedConfig, opts: RegistryOptions): Registry {
  return openCoreRegistry(config, { flag: opts.registry, env: io.env, cwd: io.cwd });
}

const actor = (io: CliIO) => registryActor(io.env);

/** Loads the one prompt in `file`, with the project it belongs to. */
async function onePrompt(io: CliIO, file: string): Promise<number | (Loaded & { prompt: PromptSpec })> {
  const loaded = await loadForCli(io, [file]);
  if (!loaded.ok) return EXIT.invalid;
  const abs = path.resolve(io.cwd, file);
  const prompts = loaded.project.prompts.filter((p) => p.file === abs);
  if (prompts.length !== 1) {
    io.err(`${colors(io).red('error')}: ${file} is not one prompt file\n`);
    return EXIT.invalid;
  }
  return { ...loaded, prompt: prompts[0] };
}

export async function publishCommand(io: CliIO, file: string, opts: RegistryOptions & { message?: string }): Promise<number> {
  return guard(io, () => publish(io, file, opts));
}

async function publish(io: CliIO, file: string, opts: RegistryOptions & { message?: string }): Promise<number> {
  const loaded = await onePrompt(io, file);
  if (typeof loaded === 'number') return loaded;
  const registry = openRegistry(io, loaded.config, opts);
  const evidence = await collectEvidence(loaded.project, loaded.prompt, loaded.config, new Date(io.now()));
  const { version, created } = await publishPrompt(registry, loaded.prompt, evidence, { actor: actor(io), at: new Date(io.now()), message: opts.message });
  io.out(created ? `published ${version.prompt} v${version.number} (content ${version.contentHash})\n  evidence: ${evidenceSummary(evidence)}\n` : `${version.prompt} v${version.number} already has this content (${version.contentHash})\n`);
  return EXIT.ok;
}

export async function promoteCommand(io: CliIO, file: string, opts: RegistryOptions & { label: string; force?: boolean; reason?: string; message?: string }): Promise<number> {
  return guard(io, () => promote(io, file, opts));
}

async function promote(io: CliIO, file: string, opts: RegistryOptions & { label: string; force?: boolean; reason?: string; message?: string }): Promise<number> {
  const c = colors(io);
  if (opts.force && !opts.reason) return usage(io, '--force needs --reason TEXT (it goes into the audit log)');
  const loaded = await onePrompt(io, file);
  if (typeof loaded === 'number') return loaded;
  const registry = openRegistry(io, loaded.config, opts);
  const result = await promotePrompt(registry, loaded.project, loaded.prompt, loaded.config, { label: opts.label, actor: actor(io), at: new Date(io.now()), message: opts.message, force: opts.force ? opts.reason : undefined });
  if (!result.ok) {
    io.err(`${c.red('refused')}: ${opts.label} needs evidence this content (${loaded.prompt.versionId}) does not have:\n${result.problems.map((p) => `  - ${p}\n`).join('')}run the suites (promptgate test), or pass --force --reason TEXT\n`);
    return EXIT.failed;
  }
  const { version, from, forced } = result;
  io.out(`${opts.label}: ${version.prompt} ${from === null ? '' : `v${from} → `}v${version.number}${forced ? c.yellow(` (forced: ${forced})`) : ''}\n  evidence: ${evidenceSummary(result.evidence)}\n`);
  return EXIT.ok;
}

/** PROMPT is a prompt file or a registered name. */
async function keyOf(io: CliIO, prompt: string): Promise<{ key: string; config: ResolvedConfig } | number> {
  const abs = path.resolve(io.cwd, prompt);
  const isFile = await fs.stat(abs).then((s) => s.isFile(), () => false);
  const root = await findProjectRoot(isFile ? path.dirname(abs) : io.cwd);
  const { config } = await loadConfig(root);
  if (!isFile) return { key: prompt, config };
  const loaded = await onePrompt(io, prompt);
  if (typeof loaded === 'number') return loaded;
  return { key: registryKey(loaded.prompt), config };
}

export async function rollbackCommand(io: CliIO, prompt: string, opts: RegistryOptions & { label: string }): Promise<number> {
  const k = await keyOf(io, prompt);
  if (typeof k === 'number') return k;
  const registry = openRegistry(io, k.config, opts);
  try {
    const { from, to } = await registry.rollback(k.key, opts.label, { actor: actor(io), at: new Date(io.now()).toISOString() });
    io.out(`${opts.label}: ${k.key} v${from} → v${to} (rolled back)\n`);
    return EXIT.ok;
  } catch (err) {
    return usage(io, (err as Error).message);
  }
}

export async function historyCommand(io: CliIO, prompt: string, opts: RegistryOptions): Promise<number> {
  return guard(io, () => history(io, prompt, opts));
}

async function history(io: CliIO, prompt: string, opts: RegistryOptions): Promise<number> {
  const k = await keyOf(io, prompt);
  if (typeof k === 'number') return k;
  const registry = openRegistry(io, k.config, opts);
  const versions = await registry.versions(k.key);
  if (!versions.length) return usage(io, `no prompt '${k.key}' in the registry at ${registry.store.location}`);
  const labels = await registry.labels(k.key);
  io.out(`${k.key}\n`);
  for (const v of versions) {
    const here = Object.entries(labels).filter(([, n]) => n === v.number).map(([l]) => l);
    io.out(`  v${v.number}  ${v.contentHash}  ${v.createdAt}  ${v.author}${v.semver ? `  ${v.semver}` : ''}${here.length ? `  [${here.join(', ')}]` : ''}${v.message ? `  ${v.message}` : ''}\n`);
  }
  io.out('label moves:\n');
  for (const e of await registry.audit(k.key)) {
    if (e.action === 'publish') continue;
    io.out(`  ${e.at}  ${e.actor}  ${e.label}: ${e.from ?? '–'} → ${e.version}  ${e.action}${e.reason ? ` (${e.reason})` : ''}\n`);
  }
  return EXIT.ok;
}

/** `promptgate diff NAME@A NAME@B`: two registry versions as a unified diff. */
export async function registryDiffCommand(io: CliIO, a: string, b: string, opts: RegistryOptions): Promise<number> {
  return guard(io, async () => {
    const root = await findProjectRoot(io.cwd);
    const { config } = await loadConfig(root);
    const registry = openRegistry(io, config, opts);
    const [va, vb] = [await registry.resolve(a), await registry.resolve(b)];
    const patch = createTwoFilesPatch(a, b, versionText(va), versionText(vb), `v${va.number}`, `v${vb.number}`, { context: 3 });
    const c = colors(io);
    const color = io.isTTY && !io.env.NO_COLOR;
    io.out(
      `${patch
        .split('\n')
        .slice(2)
        .map((l) => (!color ? l : l.startsWith('+') ? c.green(l) : l.startsWith('-') ? c.red(l) : l.startsWith('@@') ? c.dim(l) : l))
        .join('\n')}${va.contentHash === vb.contentHash ? 'the same content\n' : ''}`,
    );
    return EXIT.ok;
  });
}

export async function pullCommand(io: CliIO, ref: string, opts: RegistryOptions & { out?: string }): Promise<number> {
  const root = await findProjectRoot(io.cwd);
  const { config } = await loadConfig(root);
  try {
    const registry = openRegistry(io, config, opts);
    const v = await registry.resolve(ref);
    const text = `${JSON.stringify(v, null, 2)}\n`;
    if (opts.out) await writeFileAtomic(path.resolve(io.cwd, opts.out), text);
    else io.out(text);
    return EXIT.ok;
  } catch (err) {
    return usage(io, (err as Error).message);
  }
}

/**
 * `promptgate status [PATHS]`: for each prompt file, the labels that point at its exact content and
 * those that drifted from it. With --fail-on-drift (for CI) a drifted label (of --label, or any) exits 1.
 */
export async function statusCommand(io: CliIO, paths: string[], opts: RegistryOptions & { label?: string[]; failOnDrift?: boolean; reporter?: 'text' | 'github' }): Promise<number> {
  return guard(io, async () => {
    const loaded = await loadForCli(io, paths);
    if (!loaded.ok) return EXIT.invalid;
    const registry = openRegistry(io, loaded.config, opts);
    const c = colors(io);
    const wanted = (l: string) => !opts.label?.length || opts.label.includes(l);
    let drifted = 0;
    for (const prompt of loaded.project.prompts) {
      const status = await registry.status(registryKey(prompt), prompt.versionId);
      const labels = status.labels.filter((l) => wanted(l.label));
      const missing = (opts.label ?? []).filter((l) => !status.labels.some((x) => x.label === l));
      const rel = path.relative(io.cwd, prompt.file) || prompt.file;
      drifted += labels.filter((l) => !l.current).length + missing.length;
      if (opts.reporter === 'github') {
        const level = opts.failOnDrift ? 'error' : 'warning';
        for (const l of labels.filter((x) => !x.current)) io.out(`::${level} file=${rel},line=${prompt.range.start.line + 1},title=PromptGate registry::${describeLabel(status, l)}\n`);
        for (const l of missing) io.out(`::${level} file=${rel},line=${prompt.range.start.line + 1},title=PromptGate registry::${status.key} has no label '${l}'\n`);
        continue;
      }
      io.out(`${rel}  ${status.key}  content ${status.contentHash}  ${status.published === undefined ? c.yellow('unpublished') : `v${status.published}`}\n`);
      for (const l of labels) io.out(`  ${l.current ? c.green('✓') : c.yellow('≠')} ${describeLabel(status, l)}\n`);
      for (const l of missing) io.out(`  ${c.yellow('≠')} no label '${l}'\n`);
      if (!status.labels.length && !missing.length) io.out('  no labels\n');
    }
    return opts.failOnDrift && drifted ? EXIT.failed : EXIT.ok;
  });
}

/** Registry failures (an unreachable remote, a held lock, a rejected push) are the user's to fix: exit 2 with the reason. */
async function guard(io: CliIO, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    return usage(io, (err as Error).message);
  }
}

function usage(io: CliIO, message: string): number {
  io.err(`${colors(io).red('error')}: ${message}\n`);
  return EXIT.invalid;
}
