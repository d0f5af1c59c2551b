// The same integration suite as `npm run test:vscode`, run the usual way: @vscode/test-electron
// downloads a desktop VS Code (or uses VSCODE_EXECUTABLE) and starts it with this folder as the
// extension under development. It needs update.code.visualstudio.com, which the CI machine cannot
// reach, so CI runs the suite in code-server instead (scripts/vscode-test.ts). Use this where
// VS Code can be downloaded or is installed: `npm run test:electron`.
import * as os from 'node:os';
import * as path from 'node:path';
import { existsSync, promises as fs } from 'node:fs';
import { runTests } from '@vscode/test-electron';
import { startFakeOpenAI } from '../test/support/fake-openai';
import { ROOT } from '../test/vscode/workbench';

async function main(): Promise<number> {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-electron-'));
  const ws = path.join(scratch, 'ws');
  await fs.cp(path.join(ROOT, 'test/fixtures/vscode-ws'), ws, { recursive: true });
  const results = path.join(scratch, 'results.json');
  const model = await startFakeOpenAI({ keepRequests: false });
  try {
    const code = await runTests({
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: path.join(ROOT, 'dist/test/integration/index.js'),
      vscodeExecutablePath: process.env.VSCODE_EXECUTABLE || undefined,
      version: process.env.VSCODE_VERSION || 'stable',
      launchArgs: [ws, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--user-data-dir', path.join(scratch, 'data')],
      extensionTestsEnv: { OPENAI_BASE_URL: model.baseURL, OPENAI_API_KEY: '', PROMPTGATE_VSCODE_RESULTS: results, PROMPTGATE_VSCODE_SUITE: 'extension' },
    });
    const r = existsSync(results) ? (JSON.parse(await fs.readFile(results, 'utf8')) as { passed: number; failed: number }) : undefined;
    process.stdout.write(`electron: ${r?.passed ?? 0} passed, ${r?.failed ?? 0} failed\n`);
    return code === 0 && !!r && r.failed === 0 ? 0 : 1;
  } catch (err) {
    process.stderr.write(`electron: could not start VS Code: ${(err as Error).message}\n(set VSCODE_EXECUTABLE to an installed VS Code, or run npm run test:vscode, which uses code-server)\n`);
    return 1;
  } finally {
    await model.close();
    await fs.rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

main().then((code) => process.exit(code));
