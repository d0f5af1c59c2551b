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

/**
 * The YAML form of a .prompty file, and the zero-based line where its body starts. Each role section
 * becomes a top-level block scalar `prompty_body_N_ROLE: |-` on its role line, so a line of the file
 * is a line of the YAML; text before the first role line is a system section, as Prompty reads it,
 * whose key takes the closing `---` line. readPromptyBody gathers the sections back in order.
 */
export function promptyAsYaml(file: string, text: string): { yaml?: string; bodyLine: number; diagnostics: Diagnostic[] } {
  const lines = text.split('\n');
  const at = (line: number, message: string): Diagnostic => ({ file, range: { start: { line, character: 0 }, end: { line, character: (lines[line] ?? '').length } }, message, severity: 'error', code: 'prompty' });
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0 || lines[first].trim() !== '---') return { bodyLine: 0, diagnostics: [at(Math.max(first, 0), 'a .prompty file starts with front matter between two --- lines')] };
  const close = lines.findIndex((l, i) => i > first && l.trim() === '---');
  if (close < 0) return { bodyLine: 0, diagnostics: [at(first, 'the front matter has no closing --- line')] };
  const out = lines.slice(0, close);
  const body = lines.slice(close + 1).map((l) => l.replace(/\r$/, ''));
  const firstText = body.findIndex((l) => l.trim() !== '');
  let sections = 0;
  // Text before the first role line: a system section whose key is on the --- line.
  const preamble = firstText >= 0 && !ROLE_LINE.test(body[firstText]);
  out.push(preamble ? `${BODY_KEY}_${sections++}_system: |-` : '');
  let inRole = preamble;
  for (const line of body) {
    const role = ROLE_LINE.exec(line);
    if (role) {
      out.push(`${BODY_KEY}_${sections++}_${role[1].toLowerCase()}: |-`);
      inRole = true;
    } else out.push(inRole && line.trim() ? `${' '.repeat(PROMPTY_INDENT)}${line}` : '');
  }
  if (!sections) return { bodyLine: close + 1, diagnostics: [at(close, 'the body has no messages: add a system: or user: line followed by its text')] };
  return { yaml: out.join('\n'), bodyLine: close + 1, diagnostics: [] };
}

const SECTION_KEY = new RegExp(`^${BODY_KEY}_(\\d+)_(system|user|assistant|developer)$`);

/** The body's sections (promptyAsYaml's keys) as the `prompty_body` list, and where each is. */
export function readPromptyBody(data: unknown): { data: unknown; paths: PathSegment[][] } {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return { data, paths: [] };
  const rest: Record<string, unknown> = {};
  const sections: { n: number; key: string; role: string; content: unknown }[] = [];
  for (const [key, value] of Object.entries(data)) {
    const m = SECTION_KEY.exec(key);
    if (m) sections.push({ n: Number(m[1]), key, role: m[2], content: value });
    else rest[key] = value;
  }
  sections.sort((a, b) => a.n - b.n);
  return { data: { ...rest, [BODY_KEY]: sections.map((x) => ({ [x.role]: x.content })) }, paths: sections.map((x) => [x.key]) };
}

/**
 * A .prompty file's front matter (built on first use: see lazily), in both of Prompty's schemas:
 * the first (`configuration`, `parameters`, `inputs` as a mapping) and the current one
 * (`connection`, `options`, `model.provider` and `apiType`, `inputs` or `inputSchema.properties`
 * as a list, `template.format.kind`). Fields PromptGate does not read are kept, and reported.
 */
export const promptyFrontMatterSchema = lazily(() => {
  const kinded = z.union([z.string(), z.object({ kind: z.string().optional(), type: z.string().optional() }).passthrough()]);
  const connection = z.record(z.string(), z.unknown());
  const options = z.record(z.string(), z.unknown());
  return z
    .object({
      name: z.string().min(1).optional(),
      description: z.string().optional(),
      version: z.union([z.string(), z.number()]).optional(),
      authors: z.array(z.string()).optional(),
      tags: z.array(z.string()).optional(),
      metadata: z.record(z.string(), z.unknown()).optional(),
      base: z.string().optional(),
      template: z.union([z.string(), z.object({ format: kinded.optional(), parser: kinded.optional(), type: z.string().optional() }).passthrough()]).optional(),
      model: z
        .union([
          z.string(),
          z
            .object({
              api: z.string().optional(),
              apiType: z.string().optional(),
              id: z.string().optional(),
              provider: z.string().optional(),
              configuration: connection.optional(),
              connection: connection.optional(),
              parameters: options.optional(),
              options: options.optional(),
              response: z.string().optional(),
            })
            .passthrough(),
        ])
        .optional(),
      inputs: z.union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))]).optional(),
      inputSchema: z.object({ properties: z.union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))]).optional() }).passthrough().optional(),
      outputs: z.unknown().optional(),
      outputSchema: z.unknown().optional(),
      sample: z.union([z.record(z.string(), z.unknown()), z.string()]).optional(),
      [BODY_KEY]: z.array(z.partialRecord(z.enum(['system', 'user', 'assistant', 'developer']), z.string().nullable())).min(1),
    })
    .passthrough();
});

export type PromptyFrontMatter = z.infer<ReturnType<typeof promptyFrontMatterSchema>>;

const KNOWN_KEYS = new Set(['name', 'description', 'version', 'authors', 'tags', 'metadata', 'base', 'template', 'model', 'inputs', 'inputSchema', 'outputs', 'outputSchema', 'sample', BODY_KEY]);
const SPEC_KEYS = new Set(['name', 'type', 'kind', 'default', 'sample', 'description', 'required', 'internal', 'example', 'enum', 'items', 'properties']);
const TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object'] as const;
type VariableType = (typeof TYPES)[number];

const typeOf = (v: unknown): VariableType => (Array.isArray(v) ? 'array' : v !== null && typeof v === 'object' ? 'object' : typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string');
const kindOf = (k: unknown): VariableType | undefined => {
  const t = String(k ?? '').toLowerCase();
  if ((TYPES as readonly string[]).includes(t)) return t as VariableType;
  return ({ int: 'integer', float: 'number', bool: 'boolean', list: 'array', dict: 'object', thread: 'array' } as Record<string, VariableType>)[t];
};
const text = (v: unknown) => (typeof v === 'string' ? v : v && typeof v === 'object' ? String((v as { kind?: unknown; type?: unknown }).kind ?? (v as { type?: unknown }).type ?? '') : undefined);
const str = (o: Record<string, unknown> | undefined, ...keys: string[]) => {
  for (const k of keys) if (typeof o?.[k] === 'string' && !/^\$\{/.test(o[k] as string)) return o[k] as string;
  return undefined;
};
const num = (o: Record<string, unknown>, ...keys: string[]) => {
  for (const k of keys) if (typeof o[k] === 'number') return o[k] as number;
  return undefined;
};

/** What a Prompty file says about one of its inputs: its type, default and sample. */
interface Input {
  type: VariableType;
  default?: unknown;
  sample?: unknown;
  description?: string;
  required?: boolean;
}

/** Inputs in any of Prompty's forms: a mapping of specs or plain values (the value is the sample), or a list of named specs. */
function readInputs(fm: PromptyFrontMatter): Map<string, Input> {
  const out = new Map<string, Input>();
  const add = (name: string, spec: unknown) => {
    const isSpec = !!spec && typeof spec === 'object' && !Array.isArray(spec) && Object.keys(spec).length > 0 && Object.keys(spec).every((k) => SPEC_KEYS.has(k));
    if (!isSpec) {
      out.set(name, { type: typeOf(spec), sample: spec });
      return;
    }
    const o = spec as Record<string, unknown>;
    const given = o.default ?? o.sample ?? o.example;
    out.set(name, { type: kindOf(o.type ?? o.kind) ?? (given !== undefined ? typeOf(given) : 'string'), default: o.default, sample: o.sample ?? o.example, description: typeof o.description === 'string' ? o.description : undefined, required: typeof o.required === 'boolean' ? o.required : undefined });
  };
  for (const source of [fm.inputs, fm.inputSchema?.properties]) {
    if (Array.isArray(source)) for (const item of source) typeof item.name === 'string' && add(item.name, Object.fromEntries(Object.entries(item).filter(([k]) => k !== 'name')));
    else for (const [name, spec] of Object.entries(source ?? {})) add(name, spec);
  }
  return out;
}

/** Options PromptGate maps onto a prompt's parameters (both Prompty spellings). */
const MAPPED_OPTIONS = new Set(['max_tokens', 'maxOutputTokens', 'maxTokens', 'temperature', 'top_p', 'topP', 'seed', 'stop', 'stopSequences', 'presence_penalty', 'presencePenalty', 'frequency_penalty', 'frequencyPenalty', 'response_format', 'tools', 'tool_choice']);

/** Provider ids by Prompty's connection type or model provider. */
const PROVIDERS: Record<string, string> = { openai: 'openai', azure: 'azure', azure_openai: 'azure', azureopenai: 'azure', foundry: 'azure', anthropic: 'anthropic', ollama: 'ollama', gemini: 'gemini', google: 'gemini' };

/** Where a prompt-file field lives in a .prompty file, for located errors. */
export function promptyPath(p: readonly PathSegment[], bodyPaths: readonly PathSegment[][] = []): PathSegment[] {
  const [head, ...rest] = p;
  switch (head) {
    case 'messages':
      return typeof rest[0] === 'number' ? (bodyPaths[rest[0]] ?? []) : [];
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
 * The prompt-file form of a .prompty front matter and body: what the rest of PromptGate runs. The
 * model comes from `model.id`, the connection's `name` or `azure_deployment`, else `defaults` (a
 * prompty.json beside the file); the provider from the connection's type or `model.provider`.
 * `problem` reports a broken file (`error`), a field PromptGate does not read (`warning`), or
 * something it does not run (`skip`: the file's cases are skipped with that reason).
 */
export function promptyToPromptFile(
  fm: PromptyFrontMatter,
  problem: (path: PathSegment[], message: string, severity?: 'error' | 'warning' | 'skip') => void,
  defaults?: Record<string, unknown>,
  /** Where each body section is written (readPromptyBody). */
  bodyPaths: readonly PathSegment[][] = [],
): { data: PromptFileData; messagePaths: PathSegment[][]; sample?: Record<string, unknown> | string } | undefined {
  for (const key of Object.keys(fm)) if (!KNOWN_KEYS.has(key)) problem([key], `'${key}' is not read by PromptGate`, 'warning');
  const m = typeof fm.model === 'string' ? { id: fm.model } : (fm.model ?? {});
  const mpath: PathSegment[] = fm.model ? ['model'] : [];
  const cfgKey = m.connection ? 'connection' : 'configuration';
  const cfg = { ...defaults, ...(m.connection ?? m.configuration) } as Record<string, unknown>;
  const model = m.id ?? str(cfg, 'name', 'azure_deployment', 'deployment', 'model');
  const api = m.apiType ?? m.api;
  if (api && api !== 'chat') problem([...mpath, m.apiType ? 'apiType' : 'api'], `api ${api} is not run by PromptGate (it sends chat requests)`, 'skip');
  const format = typeof fm.template === 'string' ? fm.template : text(fm.template?.format) || fm.template?.type;
  if (format && !/^(jinja2?|nunjucks)$/i.test(format)) problem(['template'], `template format '${format}' is not run by PromptGate (it renders jinja2 templates)`, 'skip');
  // A connection that names an Azure deployment is Azure OpenAI's, whether or not it says so.
  const kind = str(cfg, 'type') ?? m.provider ?? (str(cfg, 'azure_deployment') ? 'azure_openai' : undefined);
  const provider = kind ? PROVIDERS[kind.toLowerCase()] : 'openai';
  if (!provider) problem([...mpath, ...(m.provider ? ['provider'] : [cfgKey, 'type'])], `the ${kind} provider is not called by PromptGate (it calls openai, azure, anthropic, gemini and ollama)`, 'skip');
  if (!model) problem(mpath, 'the model is not named: set model.id (or the connection\'s name or azure_deployment), add a prompty.json beside the file, or run with --model', 'skip');
  const params = { ...((m.options ?? m.parameters ?? {}) as Record<string, unknown>) };
  const optionsKey = m.options ? 'options' : 'parameters';
  const tools = z.array(ToolSchema).safeParse(params.tools);
  if (params.tools !== undefined && !tools.success) problem([...mpath, optionsKey, 'tools'], 'tools are not in the OpenAI function form PromptGate sends ({type: function, function: {name, parameters}})', 'skip');
  const messages: PromptFileData['messages'] = [];
  const messagePaths: PathSegment[][] = [];
  fm.prompty_body.forEach((section, i) => {
    const [role, content] = Object.entries(section)[0] as [PromptFileData['messages'][number]['role'], string | null];
    messages.push({ role, content: content ?? '' });
    messagePaths.push(bodyPaths[i] ?? []);
  });
  const inputs = readInputs(fm);
  const variables: PromptFileData['variables'] = {};
  for (const [name, input] of inputs) variables[name] = { type: input.type, default: input.default, description: input.description, required: input.required ?? false };
  const semver = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
  const version = fm.version === undefined ? undefined : String(fm.version);
  // The case's variables: the file's sample, else each input's sample or plain value (defaults apply anyway).
  const samples = Object.fromEntries([...inputs].flatMap(([k, v]) => (v.sample !== undefined ? [[k, v.sample]] : [])));
  const sample = fm.sample ?? samples;
  if (typeof params.response_format === 'string') problem([...mpath, optionsKey, 'response_format'], `response_format ${params.response_format} is not read by PromptGate (write the format in the file)`, 'skip');
  const rf = params.response_format as { type?: string; json_schema?: Record<string, unknown> } | undefined;
  const endpoint = str(cfg, 'azure_endpoint', 'endpoint', 'base_url');
  const apiVersion = str(cfg, 'api_version', 'apiVersion');
  const stop = params.stop ?? params.stopSequences;
  // Other options (logprobs, reasoning_effort…) are sent as written, as Prompty sends them.
  const extra = Object.fromEntries(Object.entries(params).filter(([k, v]) => !MAPPED_OPTIONS.has(k) && v !== undefined));
  return {
    data: {
      name: fm.name,
      description: fm.description,
      version: version && semver.test(version) ? version : undefined,
      model: model ?? 'unnamed',
      provider: provider && provider !== 'openai' ? { id: provider, ...(endpoint ? { baseURL: endpoint } : {}), ...(apiVersion ? { apiVersion } : {}) } : endpoint ? { id: 'openai', baseURL: endpoint } : undefined,
      modelParameters: {
        maxTokens: num(params, 'max_tokens', 'maxOutputTokens', 'maxTokens'),
        temperature: num(params, 'temperature'),
        topP: num(params, 'top_p', 'topP'),
        seed: num(params, 'seed'),
        stop: typeof stop === 'string' || Array.isArray(stop) ? (stop as string | string[]) : undefined,
        presencePenalty: num(params, 'presence_penalty', 'presencePenalty'),
        frequencyPenalty: num(params, 'frequency_penalty', 'frequencyPenalty'),
        ...(Object.keys(extra).length ? { extra } : {}),
      },
      messages,
      responseFormat: rf?.type === 'json_object' || rf?.type === 'json_schema' ? rf.type : undefined,
      jsonSchema: rf?.json_schema,
      variables: Object.keys(variables).length ? variables : undefined,
      tools: tools.success ? tools.data : undefined,
      toolChoice: params.tool_choice as PromptFileData['toolChoice'],
    },
    messagePaths,
    sample,
  };
}
