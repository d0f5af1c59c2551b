import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import Ajv from 'ajv';
import { load as parse } from 'js-yaml';
import { ConfigFileSchema, JSON_SCHEMA_FILES, PromptFileSchema, SuiteFileSchema, jsonSchemas } from '../../src/core';

const ROOT = path.resolve(__dirname, '../..');

async function yamlFiles(dir: string, re: RegExp): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules' && e.name !== 'harness') out.push(...(await yamlFiles(p, re)));
    else if (re.test(e.name)) out.push(p);
  }
  return out;
}

/** Valid documents made invalid in the ways people get them wrong. */
function mutations(doc: Record<string, unknown>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const key of Object.keys(doc)) {
    const { [key]: _, ...rest } = doc;
    out.push(rest);
    out.push({ ...doc, [key]: 12345 });
    out.push({ ...doc, [key]: { unexpected: true } });
  }
  out.push({ ...doc, unknownField: 1 });
  return out;
}

describe('JSON Schemas for editors', () => {
  it('the committed schemas are what the zod schemas generate (npm run schemas)', async () => {
    const schemas = jsonSchemas();
    for (const [key, meta] of Object.entries(JSON_SCHEMA_FILES)) {
      const committed = JSON.parse(await fs.readFile(path.join(ROOT, 'schemas', meta.file), 'utf8'));
      assert.deepEqual(committed, schemas[key as keyof typeof schemas], `schemas/${meta.file} is out of date: run npm run schemas`);
    }
  });

  it('the extension contributes them for the files they describe', async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { contributes: { yamlValidation: { fileMatch: string[]; url: string }[] } };
    assert.deepEqual(
      pkg.contributes.yamlValidation,
      Object.values(JSON_SCHEMA_FILES).map((m) => ({ fileMatch: [...m.fileMatch], url: `./schemas/${m.file}` })),
    );
  });

  it('agree with the zod schemas on every example and fixture, and on broken variants of them', async () => {
    const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
    const schemas = jsonSchemas();
    const kinds = [
      { zod: PromptFileSchema, json: schemas.prompt, re: /\.prompt\.ya?ml$/ },
      { zod: SuiteFileSchema, json: schemas.suite, re: /\.suite\.ya?ml$/ },
      { zod: ConfigFileSchema, json: schemas.config, re: /^promptgate\.config\.ya?ml$/ },
    ];
    let checked = 0;
    let invalid = 0;
    for (const k of kinds) {
      const validate = ajv.compile(k.json);
      const files = [...(await yamlFiles(path.join(ROOT, 'examples'), k.re)), ...(await yamlFiles(path.join(ROOT, 'test/fixtures'), k.re))];
      assert.ok(files.length, `fixtures for ${k.re}`);
      for (const file of files) {
        const doc = parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
        for (const d of [doc, ...mutations(doc)]) {
          const byZod = k.zod.safeParse(d).success;
          const byJson = validate(d) as boolean;
          assert.equal(byJson, byZod, `${path.relative(ROOT, file)}: zod ${byZod}, JSON Schema ${byJson} for ${JSON.stringify(d).slice(0, 200)}\n${JSON.stringify(validate.errors)}`);
          checked++;
          if (!byZod) invalid++;
        }
      }
    }
    assert.ok(checked > 100 && invalid > 50, `${checked} documents, ${invalid} invalid`);
  });
});
