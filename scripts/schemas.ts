// Writes schemas/*.schema.json from the zod schemas (npm run schemas). A unit test fails when the
// committed files differ from what this would write.
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { JSON_SCHEMA_FILES, jsonSchemas } from '../src/core/jsonschema';

async function main() {
  const dir = path.resolve(__dirname, '../schemas');
  await fs.mkdir(dir, { recursive: true });
  const schemas = jsonSchemas();
  for (const [key, meta] of Object.entries(JSON_SCHEMA_FILES)) {
    await fs.writeFile(path.join(dir, meta.file), `${JSON.stringify(schemas[key as keyof typeof schemas], null, 2)}\n`);
    process.stdout.write(`schemas/${meta.file}\n`);
  }
}

void main();
