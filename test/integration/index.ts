import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import Mocha from 'mocha';

/** Entry called by the extension host (extensionTestsPath): runs the integration suite inside VS Code. */
export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', timeout: 60_000, color: false });
  // PROMPTGATE_VSCODE_SUITE picks another suite: `bench` (the editor measurements of `npm run bench`)
  // or `untrusted` (a workspace in Restricted Mode).
  const suite = process.env.PROMPTGATE_VSCODE_SUITE ?? 'extension';
  if (!['extension', 'bench', 'untrusted'].includes(suite)) throw new Error(`unknown PROMPTGATE_VSCODE_SUITE ${suite}`);
  mocha.addFile(path.join(__dirname, `${suite}.test.js`));
  const failures: { title: string; error: string }[] = [];
  let passed = 0;
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', () => passed++);
    runner.on('fail', (t, err) => failures.push({ title: t.fullTitle(), error: String((err as Error).stack ?? err) }));
  });
  const out = process.env.PROMPTGATE_VSCODE_RESULTS;
  if (out) await fs.writeFile(out, JSON.stringify({ passed, failed: failures.length, failures }, null, 2));
  if (failures.length) throw new Error(`${failures.length} integration test(s) failed`);
}
