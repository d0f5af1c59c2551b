/* promptfoo's prompts as PromptGate reads them: inline text, file:// text (several separated by
 * --- lines), file:// JSON or YAML chat messages, JSON chat templates; script prompts are skipped. */
import * as path from 'node:path';
import { load as loadYaml } from 'js-yaml';
import type { PathSegment } from '../yamlfile';
import { templatedChat, usesConversation } from './promptfoo-conversation';
import { chatSchema, type PfPrompt, type PromptfooConfig, type Skip } from './promptfoo-schema';

export interface PromptReading {
  dir: string;
  read: (file: string) => Promise<string>;
  err: (at: PathSegment[], message: string) => void;
  skipAt: (at: PathSegment[], reason: string) => Skip;
}

/** The path of a `file://` reference, or undefined for anything else. */
export function fileRef(value: unknown): string | undefined {
  return typeof value === 'string' && value.startsWith('file://') ? value.slice('file://'.length) : undefined;
}

/** The config's prompts, each with where it is listed. */
export async function readPrompts(config: PromptfooConfig, { dir, read, err, skipAt }: PromptReading): Promise<PfPrompt[]> {
  const prompts: PfPrompt[] = [];
  const mapped = !Array.isArray(config.prompts) && typeof config.prompts === 'object' ? Object.entries(config.prompts) : undefined;
  const promptList = typeof config.prompts === 'string' ? [config.prompts] : mapped ? mapped.map(([raw, label]) => ({ raw, label, id: undefined, config: undefined })) : (config.prompts as Exclude<PromptfooConfig['prompts'], string | Record<string, string>>);
  const listPath = (i: number): PathSegment[] => (typeof config.prompts === 'string' ? ['prompts'] : mapped ? ['prompts', mapped[i][0]] : ['prompts', i]);
  // A chat prompt over `_conversation` runs its tests as conversations; a text one cannot be split into turns.
  const conversation = (text: string, chat: boolean, at: PathSegment[]): Partial<PfPrompt> =>
    !usesConversation(text) ? {} : chat ? { conversation: true } : { skip: skipAt(at, 'this text prompt renders _conversation: PromptGate runs conversations of chat prompts (a JSON list of {role, content}, or a template that renders to one)') };
  for (const [i, entry] of promptList.entries()) {
    const raw = typeof entry === 'string' ? entry : (entry.raw ?? entry.id ?? '');
    const label = typeof entry === 'string' ? undefined : entry.label;
    const pconfig = typeof entry === 'string' ? undefined : entry.config;
    const ref = fileRef(raw);
    if (!ref) {
      // As in promptfoo, a prompt that is a JSON list of {role, content} is a chat prompt.
      const chat = raw.trim().startsWith('[') ? chatSchema().safeParse(safeJson(raw)) : undefined;
      const messages = chat?.success ? chat.data : raw.trim().startsWith('[') ? templatedChat(raw) : undefined;
      prompts.push({ label: label ?? (promptList.length > 1 ? `prompt ${i + 1}` : 'prompt'), messages: messages ?? [{ role: 'user', content: raw }], path: listPath(i), config: pconfig, ...conversation(raw, !!messages, listPath(i)) });
      continue;
    }
    const file = ref.replace(/:[A-Za-z_$][\w$]*$/, '');
    if (/\.(js|cjs|mjs|ts|py)$/i.test(file)) {
      prompts.push({ label: label ?? ref, messages: [{ role: 'user', content: '' }], path: listPath(i), config: pconfig, skip: skipAt(listPath(i), `prompt ${ref} is a ${/py$/i.test(file) ? 'Python' : 'JavaScript'} prompt function, which PromptGate does not run`) });
      continue;
    }
    let text: string;
    try {
      text = await read(path.resolve(dir, ref));
    } catch (e) {
      err(listPath(i), `cannot read prompt ${ref}: ${(e as Error).message}`);
      continue;
    }
    if (/\.json$/i.test(ref)) {
      // A JSON chat prompt, or a template that renders to one (promptfoo's multi-turn prompts).
      const parsed = chatSchema().safeParse(safeJson(text));
      const messages = parsed.success ? parsed.data : templatedChat(text);
      if (!messages) err(listPath(i), `${ref} is not a JSON chat prompt (a list of {role, content}, or a template that renders to one)`);
      else prompts.push({ label: label ?? ref, messages, path: listPath(i), config: pconfig, ...(usesConversation(text) ? { conversation: true } : {}) });
    } else if (/\.(ya?ml)$/i.test(ref)) {
      const parsed = chatSchema().safeParse(safeYaml(text));
      if (!parsed.success) err(listPath(i), `${ref} is not a YAML chat prompt (a list of {role, content})`);
      else prompts.push({ label: label ?? ref, messages: parsed.data, path: listPath(i), config: pconfig });
    } else {
      const parts = text.split(/^---\s*$/m).map((t) => t.trim()).filter(Boolean);
      parts.forEach((content, k) => prompts.push({ label: label ? (parts.length > 1 ? `${label} ${k + 1}` : label) : parts.length > 1 ? `${ref} ${k + 1}` : ref, messages: [{ role: 'user', content }], path: listPath(i), config: pconfig, ...conversation(content, false, listPath(i)) }));
    }
  }

  return prompts;
}

export function safeYaml(text: string): unknown {
  try {
    return loadYaml(text);
  } catch {
    return undefined;
  }
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
