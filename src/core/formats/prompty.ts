/**
 * Microsoft Prompty files (`.prompty`): YAML front matter between `---` lines, then a Jinja body in
 * role sections (`system:`, `user:`, `assistant:` on their own lines). PromptGate reads them as they
 * are: the file is re-expressed as YAML with the same line numbers (each role section becomes a block
 * scalar), so every error keeps its line, and the front matter maps onto a prompt file's fields.
 */
import { z } from 'zod';
import type { Diagnostic } from '../diagnostics';
import { lazily, ToolSchema, type PromptFileData } from '../schema';
import type { PathSegment } from '../yamlfile';

export const PROMPTY_FILE = /\.prompty$/i;
/** Body lines are indented by this much in the YAML form; diagnostics subtract it again. */
export const PROMPTY_INDENT = 6;
const ROLE_LINE = /^\s*#?\s*(system|user|assistant|developer)\s*:\s*$/i;
const BODY_KEY = 'prompty_body';

/** The YAML form of a .prompty file, and the zero-based line where its body starts. */
export function promptyAsYaml(file: string, text: string): { yaml?: string; bodyLine: number; diagnostics: Diagnostic[] } {
  const lines = text.split('\n');
  const at = (line: number, message: string): Diagnostic => ({ file, range: { start: { line, character: 0 }, end: { line, character: (lines[line] ?? '').length } }, message, severity: 'error', code: 'prompty' });
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0 || lines[first].trim() !== '---') return { bodyLine: 0, diagnostics: [at(Math.max(first, 0), 'a .prompty file starts with front matter between two --- lines')] };
  const close = lines.findIndex((l, i) => i > first && l.trim() === '---');
  if (close < 0) return { bodyLine: 0, diagnostics: [at(first, 'the front matter has no closing --- line')] };
  const out = lines.slice(0, close);
  out.push(`${BODY_KEY}:`);
  let inRole = false;
  const diagnostics: Diagnostic[] = [];
  for (let i = close + 1; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    const role = ROLE_LINE.exec(line);
    if (role) {
      out.push(`  - ${role[1].toLowerCase()}: |-`);
      inRole = true;
    } else if (!inRole) {
      if (line.trim()) diagnostics.push(at(i, 'text before the first role line: start the body with system:, user: or assistant: on a line of its own'));
      out.push('');
    } else out.push(line.trim() ? `${' '.repeat(PROMPTY_INDENT)}${line}` : '');
  }
  if (!inRole && !diagnostics.length) diagnostics.push(at(close, 'the body has no messages: add a system: or user: line followed by its text'));
  return diagnostics.length ? { bodyLine: close + 1, diagnostics } : { yaml: out.join('\n'), bodyLine: close + 1, diagnostics };
}

/** A .prompty file's front matter (built on first use: see lazily). */
export const promptyFrontMatterSchema = lazily(() => {
  const input = z.union([
    z
      .object({
        type: z.enum(['string', 'number', 'integer', 'boolean', 'array', 'object']).optional(),
        default: z.unknown().optional(),
        sample: z.unknown().optional(),
        description: z.string().optional(),
        required: z.boolean().optional(),
      })
      .strict(),
    z.string(),
    z.number(),
    z.boolean(),
  ]);

  return z
    .object({
      name: z.string().min(1).optional(),
      description: z.string().optional(),
      version: z.union([z.string(), z.number()]).optional(),
      authors: z.array(z.string()).optional(),
      tags: z.array(z.string()).optional(),
      metadata: z.record(z.string(), z.unknown()).optional(),
      base: z.string().optional(),
      template: z.union([z.string(), z.object({ format: z.string().optional(), parser: z.string().optional() }).strict()]).optional(),
      model: z
        .object({
          api: z.enum(['chat', 'completion']).optional(),
          id: z.string().optional(),
          configuration: z
            .object({ type: z.string().optional(), name: z.string().optional(), azure_deployment: z.string().optional(), azure_endpoint: z.string().optional(), api_version: z.string().optional(), api_key: z.string().optional(), base_url: z.string().optional(), organization: z.string().optional() })
            .strict()
            .optional(),
          parameters: z
            .object({
              max_tokens: z.number().int().positive().optional(),
              temperature: z.number().min(0).max(2).optional(),
              top_p: z.number().min(0).max(1).optional(),
              stop: z.union([z.string(), z.array(z.string())]).optional(),
              seed: z.number().int().optional(),
              presence_penalty: z.number().optional(),
              frequency_penalty: z.number().optional(),
              response_format: z.object({ type: z.enum(['text', 'json_object', 'json_schema']), json_schema: z.record(z.string(), z.unknown()).optional() }).strict().optional(),
              tools: z.array(ToolSchema).optional(),
              tool_choice: z.union([z.enum(['auto', 'none', 'required']), z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) })]).optional(),
            })
            .strict()
            .optional(),
          response: z.enum(['first', 'all']).optional(),
        })
        .strict()
        .optional(),
      inputs: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'input names are identifiers'), input).optional(),
      outputs: z.record(z.string(), z.unknown()).optional(),
      sample: z.union([z.record(z.string(), z.unknown()), z.string()]).optional(),
      [BODY_KEY]: z.array(z.partialRecord(z.enum(['system', 'user', 'assistant', 'developer']), z.string().nullable())).min(1),
    })
    .strict();
});

export type PromptyFrontMatter = z.infer<ReturnType<typeof promptyFrontMatterSchema>>;

/** Where a prompt-file field lives in a .prompty file, for located errors. */
export function promptyPath(p: readonly PathSegment[]): PathSegment[] {
  const [head, ...rest] = p;
  switch (head) {
    case 'messages':
      return typeof rest[0] === 'number' ? [BODY_KEY, rest[0], ...(rest.length > 1 ? [] : [])] : [BODY_KEY];
    case 'variables':
      return ['inputs', ...rest.slice(0, 1)];
    case 'modelParameters':
    case 'tools':
    case 'toolChoice':
    case 'responseFormat':
      return ['model', 'parameters'];
    case 'provider':
      return ['model', 'configuration'];
    case 'model':
      return ['model'];
    default:
      return [...p];
  }
}

/**
 * The prompt-file form of a .prompty front matter and body: what the rest of PromptGate runs. Model
 * from `configuration.name`, `azure_deployment` or `id`; parameters renamed; `inputs` become typed
 * variables; the body's role sections become messages.
 */
export function promptyToPromptFile(fm: PromptyFrontMatter, problem: (path: PathSegment[], message: string, severity?: 'error' | 'warning') => void): { data: PromptFileData; messagePaths: PathSegment[][]; sample?: Record<string, unknown> | string } | undefined {
  const cfg = fm.model?.configuration;
  const model = cfg?.name ?? cfg?.azure_deployment ?? fm.model?.id;
  if (!model) {
    problem(fm.model ? ['model'] : [], 'the model is not named: set model.configuration.name (OpenAI), model.configuration.azure_deployment or model.id');
    return undefined;
  }
  if (fm.model?.api === 'completion') problem(['model', 'api'], "api: completion is not supported: PromptGate sends chat requests (use api: chat)");
  const format = typeof fm.template === 'string' ? fm.template : fm.template?.format;
  if (format && format !== 'jinja2') problem(['template'], `template format '${format}' is not supported: PromptGate renders jinja2 templates`);
  if (cfg?.type === 'azure_openai') {
    problem(['model', 'configuration', 'type'], "azure_openai: PromptGate speaks the OpenAI API, so the deployment is sent as the model to the provider's baseURL (promptgate.config.yml, OPENAI_BASE_URL or the editor setting), not to azure_endpoint", 'warning');
  } else if (cfg?.type && cfg.type !== 'openai') problem(['model', 'configuration', 'type'], `configuration type '${cfg.type}' is not supported (openai, azure_openai)`);
  const params = fm.model?.parameters ?? {};
  const messages: PromptFileData['messages'] = [];
  const messagePaths: PathSegment[][] = [];
  fm.prompty_body.forEach((section, i) => {
    const [role, content] = Object.entries(section)[0] as [PromptFileData['messages'][number]['role'], string | null];
    messages.push({ role, content: content ?? '' });
    messagePaths.push([BODY_KEY, i, role]);
  });
  const variables: PromptFileData['variables'] = {};
  for (const [name, input] of Object.entries(fm.inputs ?? {})) {
    if (typeof input === 'object') variables[name] = { type: input.type ?? 'string', default: input.default, description: input.description, required: input.required ?? false };
    else variables[name] = { type: typeof input === 'number' ? 'number' : typeof input === 'boolean' ? 'boolean' : 'string', default: input, required: false };
  }
  const semver = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
  const version = fm.version === undefined ? undefined : String(fm.version);
  const sample = fm.sample ?? (fm.inputs && Object.values(fm.inputs).some((v) => typeof v === 'object' && v.sample !== undefined) ? Object.fromEntries(Object.entries(fm.inputs).flatMap(([k, v]) => (typeof v === 'object' && v.sample !== undefined ? [[k, v.sample]] : []))) : undefined);
  return {
    data: {
      name: fm.name,
      description: fm.description,
      version: version && semver.test(version) ? version : undefined,
      model,
      provider: cfg?.type === 'openai' && cfg.base_url ? { id: 'openai', baseURL: cfg.base_url } : undefined,
      modelParameters: {
        maxTokens: params.max_tokens,
        temperature: params.temperature,
        topP: params.top_p,
        seed: params.seed,
        stop: params.stop,
        presencePenalty: params.presence_penalty,
        frequencyPenalty: params.frequency_penalty,
      },
      messages,
      responseFormat: params.response_format?.type === 'text' ? undefined : params.response_format?.type,
      jsonSchema: params.response_format?.json_schema,
      variables: Object.keys(variables).length ? variables : undefined,
      tools: params.tools,
      toolChoice: params.tool_choice,
    },
    messagePaths,
    sample,
  };
}
