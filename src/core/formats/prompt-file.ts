import * as path from 'node:path';
import type { Diagnostic, Range } from '../diagnostics';
import { hashOf } from '../canonical';
import { compileSchema } from '../assertions/json';
import type { ProviderRequest } from '../providers/types';
import { PromptFileSchema, type PromptFileData, type ProviderOptions } from '../schema';
import { PROVIDERS } from '../providers/registry';
import { parseModelRef } from '../providers/ids';
import { PROMPTY_FILE, promptyFrontMatterSchema, promptyAsYaml, promptyPath, promptyToPromptFile, readPromptyBody } from './prompty';
import { requestModelFor } from '../variants';
import { TemplateError, referencedVariables, type TemplateDialect } from '../template';
import { YamlFile, type PathSegment } from '../yamlfile';
import { checkValue, templateRange, closest } from './case';
import type { LoadedPrompt } from './loaded';
import type { PromptSpec } from '../types/cases';

export type { LoadedPrompt } from './loaded';

export async function readPromptFile(
  file: string,
  relFile: string,
  read: (f: string) => Promise<string>,
  providerDefaults: Partial<ProviderOptions>,
  diagnostics: Diagnostic[],
): Promise<LoadedPrompt | null> {
  let text: string;
  try {
    text = await read(file);
  } catch (err) {
    diagnostics.push({ file, message: `cannot read: ${(err as Error).message}`, severity: 'error', code: 'io' });
    return null;
  }
  // A .prompty file is read as YAML with the same line numbers (see prompty.ts).
  const prompty = PROMPTY_FILE.test(file) ? promptyAsYaml(file, text) : undefined;
  if (prompty) {
    diagnostics.push(...prompty.diagnostics);
    if (!prompty.yaml) return null;
  }
  const { yaml, diagnostics: yd } = YamlFile.parse(file, prompty?.yaml ?? text);
  diagnostics.push(...yd);
  if (!yaml) return null;
  let data: PromptFileData;
  let messagePath = (i: number): PathSegment[] => ['messages', i, 'content'];
  let loc = (p: PathSegment[]): PathSegment[] => p;
  let sample: Record<string, unknown> | string | undefined;
  let skip: LoadedPrompt['skip'];
  const before = diagnostics.length;
  if (prompty) {
    const body = readPromptyBody(yaml.data ?? {});
    const fm = promptyFrontMatterSchema().safeParse(body.data);
    if (!fm.success) {
      diagnostics.push(...yaml.schemaDiagnostics(fm.error));
      return null;
    }
    const converted = promptyToPromptFile(
      fm.data,
      (p, message, severity = 'error') => {
        const range = yaml.rangeOf(p);
        if (severity === 'skip') {
          // Put back at the .prompty's own columns (the body is indented in its YAML form; the front matter is not).
          skip ??= { reason: message, where: `${relFile}:${range.start.line + 1}:${range.start.character + 1}`, ...(/model is not named/.test(message) ? { needsModel: true } : {}) };
          diagnostics.push({ file, range, message: `${message}; the file's cases are skipped`, severity: 'warning', code: 'unsupported' });
        } else diagnostics.push({ file, range, message, severity, code: 'prompty' });
      },
      await promptyDefaults(file, read),
      body.paths,
    );
    if (!converted || diagnostics.slice(before).some((d) => d.severity === 'error')) return null;
    data = converted.data;
    messagePath = (i) => converted.messagePaths[i];
    loc = (p) => promptyPath(p, body.paths);
    sample = converted.sample;
  } else {
    const parsed = PromptFileSchema.safeParse(yaml.data ?? {});
    if (!parsed.success) {
      diagnostics.push(...yaml.schemaDiagnostics(parsed.error));
      return null;
    }
    data = parsed.data;
  }
  const loaded = finishPrompt(file, relFile, yaml, data, { messagePath, loc, trim: !!prompty, sample, bodyLine: prompty?.bodyLine, dialect: prompty ? 'lenient' : 'strict', unsupportedProvider: !!skip }, providerDefaults, diagnostics);
  if (loaded && skip) loaded.skip = skip;
  return loaded;
}

/**
 * The default connection of the nearest prompty.json (in the file's folder or up to three above),
 * as Prompty reads it for a file whose model names none: `{"default": {type, azure_deployment…}}`.
 */
async function promptyDefaults(file: string, read: (f: string) => Promise<string>): Promise<Record<string, unknown> | undefined> {
  let dir = path.dirname(file);
  for (let i = 0; i < 4; i++) {
    let text: string | undefined;
    try {
      text = await read(path.join(dir, 'prompty.json'));
    } catch {
      // none here
    }
    if (text !== undefined) {
      try {
        const data = JSON.parse(text) as Record<string, unknown>;
        const entry = data.default ?? Object.values(data)[0];
        return entry && typeof entry === 'object' && !Array.isArray(entry) ? (entry as Record<string, unknown>) : undefined;
      } catch {
        return undefined;
      }
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/** How a prompt's fields are found in the file it came from (they differ for .prompty and promptfoo files). */
export interface PromptSource {
  messagePath(i: number): PathSegment[];
  loc(p: PathSegment[]): PathSegment[];
  /** Trim rendered messages (Prompty sections keep the blank lines around them). */
  trim: boolean;
  sample?: Record<string, unknown> | string;
  bodyLine?: number;
  /** Where the prompt is named (its CodeLens and Test Explorer range). */
  range?: Range;
  /** `lenient` for third-party formats (default `strict`). */
  dialect?: TemplateDialect;
  /** The provider is one PromptGate does not run: its cases are skipped, so its id is not checked. */
  unsupportedProvider?: boolean;
}

/** Checks a prompt's templates, response format, tools and provider, and computes its request and version. */
export function finishPrompt(
  file: string,
  relFile: string,
  yaml: YamlFile,
  data: PromptFileData,
  source: PromptSource,
  providerDefaults: Partial<ProviderOptions>,
  diagnostics: Diagnostic[],
): LoadedPrompt | null {
  const { messagePath, loc } = source;
  const errorsBefore = diagnostics.filter((d) => d.severity === 'error').length;
  const err = (p: PathSegment[], message: string, code = 'schema') =>
    diagnostics.push({ file, range: yaml.rangeOf(loc(p)), message, severity: 'error', code });

  // Template references, located in the file.
  const refs: { name: string; range: Range }[] = [];
  data.messages.forEach((m, i) => {
    const p = messagePath(i);
    try {
      for (const r of referencedVariables(m.content)) {
        const range = templateRange(yaml, p, r.line, r.character, r.name.length);
        if (!refs.some((x) => x.name === r.name)) refs.push({ name: r.name, range });
      }
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      const pos = e.position;
      diagnostics.push({
        file,
        range: pos ? templateRange(yaml, p, pos.line, pos.character, 1) : yaml.rangeOf(p),
        message: e.message,
        severity: 'error',
        code: 'template',
      });
    }
  });
  if (data.variables) {
    for (const r of refs) {
      if (!(r.name in data.variables)) {
        const near = closest(r.name, Object.keys(data.variables));
        // Prompty renders an undeclared variable as empty text: there it is a warning, not an error.
        const lenient = source.dialect === 'lenient';
        diagnostics.push({
          file,
          range: r.range,
          message: `variable '${r.name}' is not declared in ${lenient ? 'inputs' : 'variables'}${near ? ` (did you mean '${near}'?)` : ''}${lenient ? '; without a value it renders empty' : ''}`,
          severity: lenient ? 'warning' : 'error',
          code: 'template',
        });
      }
    }
    for (const [name, v] of Object.entries(data.variables)) {
      if (v.default !== undefined) {
        const problem = checkValue(v, v.default);
        if (problem) err(['variables', name, 'default'], `default of '${name}' ${problem}`);
      }
    }
  }

  // Response format.
  let response_format: ProviderRequest['response_format'];
  let jsonSchema: Record<string, unknown> | undefined;
  if (data.jsonSchema !== undefined) {
    if (typeof data.jsonSchema === 'string') {
      try {
        jsonSchema = JSON.parse(data.jsonSchema);
      } catch (e) {
        err(['jsonSchema'], `jsonSchema is not valid JSON: ${(e as Error).message}`);
      }
    } else jsonSchema = data.jsonSchema;
  }
  if (data.responseFormat === 'json_schema') {
    if (!jsonSchema) {
      if (data.jsonSchema === undefined) err(['responseFormat'], "responseFormat 'json_schema' needs a jsonSchema");
    } else if ((typeof jsonSchema.name !== 'string' || typeof jsonSchema.schema !== 'object') && !(typeof jsonSchema.type === 'string' || typeof jsonSchema.properties === 'object')) {
      err(['jsonSchema'], "jsonSchema needs a 'name' and a 'schema' object, or is a JSON Schema itself");
    } else {
      try {
        // A bare JSON Schema (as gh-models also takes it) is sent under a name, as the API wants.
        if (typeof jsonSchema.schema !== 'object') jsonSchema = { name: 'response', schema: jsonSchema };
        compileSchema(jsonSchema.schema as Record<string, unknown>);
        response_format = { type: 'json_schema', json_schema: jsonSchema };
      } catch (e) {
        err(['jsonSchema'], (e as Error).message);
      }
    }
  } else if (data.responseFormat === 'json_object') response_format = { type: 'json_object' };

  (data.tools ?? []).forEach((t, i) => {
    if (t.function.parameters) {
      try {
        compileSchema(t.function.parameters);
      } catch (e) {
        err(['tools', i, 'function', 'parameters'], `tool '${t.function.name}': ${(e as Error).message}`);
      }
    }
  });

  // A model written as `anthropic:messages:claude-…` (promptfoo's way) names its provider too.
  const ref = source.unsupportedProvider ? { model: data.model } : parseModelRef(data.model);
  if ('unsupported' in ref) err(['model'], ref.unsupported);
  else if (ref.provider && ref.provider !== 'echo') {
    const named = typeof data.provider === 'string' ? data.provider : data.provider?.id;
    if (named && named !== ref.provider) err(['model'], `model '${data.model}' names provider '${ref.provider}', and provider says '${named}'`);
    data = { ...data, model: ref.model, provider: typeof data.provider === 'object' ? { ...data.provider, id: ref.provider } : ref.provider };
  }
  const provider: ProviderOptions = {
    ...providerDefaults,
    ...(typeof data.provider === 'string' ? { id: data.provider } : (data.provider ?? {})),
    id: (typeof data.provider === 'string' ? data.provider : data.provider?.id) ?? providerDefaults.id ?? 'openai',
  };
  // Defaults for another provider (an OpenAI base URL or key) do not carry over to this one.
  if (provider.id !== (providerDefaults.id ?? 'openai')) for (const k of ['baseURL', 'apiKeyEnv'] as const) if (provider[k] === providerDefaults[k] && !(typeof data.provider === 'object' && data.provider[k])) delete provider[k];
  if (!source.unsupportedProvider && !PROVIDERS.some((f) => f.id === provider.id)) {
    err(data.provider !== undefined ? (typeof data.provider === 'string' ? ['provider'] : ['provider', 'id']) : ['model'], `unknown provider '${provider.id}' (known: ${PROVIDERS.map((f) => f.id).join(', ')})`);
  }
  const requestModel = requestModelFor(data.model, provider);
  const mp = data.modelParameters;
  const fields: Omit<ProviderRequest, 'messages'> = {
    ...mp.extra,
    model: requestModel,
    temperature: mp.temperature,
    max_tokens: mp.maxTokens,
    top_p: mp.topP,
    seed: mp.seed,
    stop: mp.stop,
    presence_penalty: mp.presencePenalty,
    frequency_penalty: mp.frequencyPenalty,
    tools: data.tools,
    tool_choice: data.toolChoice,
    response_format,
  };
  // Only the fields set: every case's request copies these, and unset ones cost each copy room.
  const baseRequest = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Omit<ProviderRequest, 'messages'>;
  if (diagnostics.filter((d) => d.severity === 'error').length > errorsBefore) return null;

  const versionId = hashOf({
    messages: data.messages,
    model: data.model,
    provider: provider.id,
    parameters: mp,
    tools: data.tools ?? null,
    toolChoice: data.toolChoice ?? null,
    responseFormat: data.responseFormat ?? null,
    jsonSchema: jsonSchema ?? null,
  }).slice(0, 12);

  const spec: PromptSpec = {
    file,
    relFile,
    name: data.name ?? path.basename(file).replace(/\.(?:prompt\.ya?ml|prompty)$/i, ''),
    description: data.description,
    version: data.version,
    versionId,
    model: data.model,
    provider,
    variables: data.variables,
    tools: data.tools ?? [],
    range: source.range ?? yaml.rangeOf(data.name ? ['name'] : []),
    template: { messages: data.messages, parameters: mp, responseFormat: data.responseFormat, jsonSchema, toolChoice: data.toolChoice },
  };
  return {
    spec,
    yaml,
    data,
    refs,
    dialect: source.dialect ?? 'strict',
    baseRequest,
    messages: data.messages.map((m, i) => ({ role: m.role, content: m.content, path: messagePath(i), trim: source.trim })),
    sample: source.sample,
    bodyLine: source.bodyLine,
  };
}
