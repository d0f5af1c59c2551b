import { z } from 'zod';
import { assertionTypeNames, NEGATION_PREFIX } from './assertions/registry';
import { ConfigFileSchema, PromptFileSchema, SuiteFileSchema } from './schema';

/** The JSON Schemas that YAML editors use for completion, hover and checks, with the files they match. */
export const JSON_SCHEMA_FILES = {
  prompt: { file: 'prompt.schema.json', fileMatch: ['*.prompt.yml', '*.prompt.yaml'], title: 'PromptGate prompt file' },
  suite: { file: 'suite.schema.json', fileMatch: ['*.suite.yml', '*.suite.yaml'], title: 'PromptGate suite file' },
  config: { file: 'config.schema.json', fileMatch: ['promptgate.config.yml', 'promptgate.config.yaml'], title: 'PromptGate project configuration' },
} as const;

type Json = Record<string, unknown>;

/**
 * Generated from the zod schemas that validate the files (input side: defaults are optional), with
 * one addition zod cannot know: the assertion type names, offered as completions (a string outside
 * them stays allowed here, and the loader reports it with a "did you mean").
 */
export function jsonSchemas(): Record<keyof typeof JSON_SCHEMA_FILES, Json> {
  const types = assertionTypeNames().flatMap((t) => [t, `${NEGATION_PREFIX}${t}`]);
  const make = (schema: z.ZodType, key: keyof typeof JSON_SCHEMA_FILES): Json => {
    const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-07', unrepresentable: 'any' }) as Json;
    visit(json, (node) => {
      const props = node.properties as Record<string, Json> | undefined;
      if (props?.type && props.value && node.required && (node.required as string[]).includes('type') && (props.type as Json).type === 'string') {
        props.type = { ...props.type, anyOf: [{ enum: types }, { type: 'string' }] };
      }
    });
    return { ...json, $id: `https://promptgate.dev/schemas/${JSON_SCHEMA_FILES[key].file}`, title: JSON_SCHEMA_FILES[key].title };
  };
  return { prompt: make(PromptFileSchema, 'prompt'), suite: make(SuiteFileSchema, 'suite'), config: make(ConfigFileSchema, 'config') };
}

function visit(node: unknown, fn: (n: Json) => void): void {
  if (Array.isArray(node)) node.forEach((n) => visit(n, fn));
  else if (node && typeof node === 'object') {
    fn(node as Json);
    for (const v of Object.values(node)) visit(v, fn);
  }
}
