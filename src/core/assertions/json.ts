import { z } from 'zod';
import type Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import { vendor } from '../vendor';
import { define, outcome } from './types';

let ajv: Ajv | undefined;
const schemaValue = z.record(z.string(), z.unknown()).optional();

/** Compiles a JSON Schema, throwing a readable error for an invalid one. */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  try {
    ajv ??= new (vendor.ajv())({ allErrors: true, strict: false, validateFormats: false });
    return ajv.compile(schema);
  } catch (err) {
    throw new Error(`invalid JSON Schema: ${(err as Error).message}`);
  }
}

export function schemaErrors(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .slice(0, 3)
    .map((e) => `${e.instancePath || '(root)'} ${e.message}`)
    .join('; ');
}

/** Every complete JSON object or array embedded in a text, in order of appearance. */
export function findJsonValues(text: string): unknown[] {
  const found: unknown[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '{' && ch !== '[') continue;
    const end = matchingBracket(text, i);
    if (end < 0) continue;
    try {
      found.push(JSON.parse(text.slice(i, end + 1)));
      i = end;
    } catch {
      // not JSON here; keep scanning from the next character
    }
  }
  return found;
}

function matchingBracket(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

export const jsonAssertions = [
  define<Record<string, unknown> | undefined, ValidateFunction | undefined>({
    id: 'is-json',
    kind: 'pure',
    description: 'output is valid JSON, optionally matching a JSON Schema given as the value',
    value: schemaValue,
    compile: (value) => (value ? compileSchema(value) : undefined),
    evaluate: ({ output, compiled }) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(output);
      } catch (err) {
        return outcome(false, `output is not valid JSON: ${(err as Error).message}`);
      }
      if (compiled && !compiled(parsed)) return outcome(false, `JSON does not match the schema: ${schemaErrors(compiled)}`);
      return outcome(true, compiled ? 'output is JSON matching the schema' : 'output is valid JSON');
    },
  }),
  define<Record<string, unknown> | undefined, ValidateFunction | undefined>({
    id: 'contains-json',
    kind: 'pure',
    description: 'output contains a JSON object or array, optionally matching a JSON Schema given as the value',
    value: schemaValue,
    compile: (value) => (value ? compileSchema(value) : undefined),
    evaluate: ({ output, compiled }) => {
      const values = findJsonValues(output);
      if (!values.length) return outcome(false, 'output contains no JSON object or array');
      if (!compiled) return outcome(true, 'output contains JSON');
      if (values.some((v) => compiled(v))) return outcome(true, 'output contains JSON matching the schema');
      compiled(values[0]);
      return outcome(false, `no JSON in the output matches the schema: ${schemaErrors(compiled)}`);
    },
  }),
];
