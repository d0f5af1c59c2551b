// Runs the integration suite inside a real VS Code: code-server (npm) serving the workbench to
// headless Chromium (apt), with this folder as the extension under development and
// dist/test/integration/index.js as its tests (the URL payload that @vscode/test-electron also uses).
// The model is the local OpenAI-compatible test server started here. Exit code: 0 when every test passed.
import * as os from 'node:os';
import * as net from 'node:net';
import * as path from 'node:path';
import { existsSync, promises as fs } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { startFakeOpenAI } from '../test/support/fake-openai';

const ROOT = path.resolve(__dirname, '..');
const HARNESS = path.join(ROOT, 'test/vscode/harness');
const CODE_SERVER = path.join(HARNESS, 'node_modules/code-server/out/node/entry.js');
const ARTIFACTS = path.join(ROOT, 'test-results/vscode');

/** The part of playwright-core's API this script uses (it is installed in the harness, not the project). */
interface Frame {
  evaluate<T>(fn: () => T): Promise<T>;
}
interface Page {
  frames(): Frame[];
  exposeFunction(name: string, fn: (...args: never[]) => unknown): Promise<void>;
  goto(url: string): Promise<unknown>;
  screenshot(options: { path: string }): Promise<unknown>;
}
interface Chromium {
  launch(options: { executablePath: string; headless: boolean; env: NodeJS.ProcessEnv; args: string[] }): Promise<{
    newContext(options: { viewport: { width: number; height: number } }): Promise<{ newPage(): Promise<Page> }>;
    close(): Promise<void>;
  }>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

async function main(): Promise<number> {
  if (!existsSync(CODE_SERVER) || !existsSync('/usr/bin/chromium')) {
    process.stderr.write('vscode: the harness is not installed; run scripts/vscode-harness-setup.sh\n');
    return 1;
  }
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-vscode-'));
  const ws = path.join(scratch, 'ws');
  await fs.cp(path.join(ROOT, 'test/fixtures/vscode-ws'), ws, { recursive: true });
  const data = path.join(scratch, 'data');
  await fs.mkdir(path.join(data, 'User'), { recursive: true });
  await fs.writeFile(
    path.join(data, 'User/settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'update.mode': 'none',
      'workbench.tips.enabled': false,
      'extensions.ignoreRecommendations': true,
      'git.enabled': false,
      'chat.disableAIFeatures': true,
    }),
  );
  await fs.writeFile(path.join(scratch, 'config.yaml'), '');
  await fs.mkdir(ARTIFACTS, { recursive: true });
  const results = path.join(scratch, 'results.json');
  const model = await startFakeOpenAI({ keepRequests: false });
  const port = await freePort();
  const xdg = (k: string) => path.join(scratch, 'xdg', k);
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: xdg('config'),
    XDG_DATA_HOME: xdg('data'),
    XDG_CACHE_HOME: xdg('cache'),
    OPENAI_BASE_URL: model.baseURL,
    OPENAI_API_KEY: '',
    PROMPTGATE_VSCODE_RESULTS: results,
  };
  let server: ChildProcess | undefined;
  let serverLog = '';
  let browser: { close(): Promise<void> } | undefined;
  const t0 = Date.now();
  try {
    server = spawn(
      process.execPath,
      [
        CODE_SERVER,
        '--config', path.join(scratch, 'config.yaml'),
        '--bind-addr', `127.0.0.1:${port}`,
        '--auth', 'none',
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        '--user-data-dir', data,
        '--extensions-dir', path.join(scratch, 'ext'),
        '--ignore-last-opened',
        ws,
      ],
      { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server.stdout!.on('data', (d: Buffer) => (serverLog += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (serverLog += d.toString()));
    await waitFor(`http://127.0.0.1:${port}/healthz`, 30_000);

    const { chromium } = createRequire(path.join(HARNESS, 'package.json'))('playwright-core') as { chromium: Chromium };
    const b = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      env: { ...process.env, XDG_CONFIG_HOME: xdg('chromium') },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
    browser = b;
    const page = await (await b.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    let exit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (exit = resolve));
    await page.exposeFunction('codeAutomationExit', (code: number) => exit(code));
    await page.exposeFunction('codeAutomationLog', (_type: string, args: unknown[]) => {
      const line = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
      if (line.trim()) process.stdout.write(`  │ ${line}\n`);
    });
    const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(ROOT)],
      ['extensionTestsPath', remote(path.join(ROOT, 'dist/test/integration/index.js'))],
    ];
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    const code = await Promise.race([exited, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('the extension host did not finish the tests within 180 s')), 180_000))]).catch(async (err) => {
      await page.screenshot({ path: path.join(ARTIFACTS, 'timeout.png') }).catch(() => undefined);
      throw err;
    });
    await page.screenshot({ path: path.join(ARTIFACTS, 'integration-end.png') }).catch(() => undefined);
    const panel = await checkResultsPanel(page);
    const r = existsSync(results) ? (JSON.parse(await fs.readFile(results, 'utf8')) as { passed: number; failed: number; failures: { title: string; error: string }[] }) : undefined;
    for (const f of r?.failures ?? []) process.stdout.write(`✗ ${f.title}\n${f.error}\n\n`);
    process.stdout.write(`integration tests in code-server 4.100.3 (VS Code 1.100.3), headless Chromium: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    process.stdout.write(`vscode: ${r?.passed ?? 0} passed, ${r?.failed ?? 0} failed\n`);
    if (!r) process.stderr.write('vscode: no results were written: the tests did not load\n');
    if (panel) process.stdout.write(`✗ results panel in the page: ${panel}\n`);
    return code === 0 && r && r.failed === 0 && r.passed > 0 && !panel ? 0 : 1;
  } catch (err) {
    process.stderr.write(`vscode: ${(err as Error).message}\n--- code-server log ---\n${serverLog.slice(-4000)}\n`);
    return 1;
  } finally {
    await browser?.close().catch(() => undefined);
    if (server?.pid) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await model.close();
    await fs.rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * In the page itself: the results panel (a webview iframe) shows the run, and an output holding
 * <script> and <img onerror> is text: no such element exists and nothing ran. Returns a problem, or undefined.
 */
async function checkResultsPanel(page: Page): Promise<string | undefined> {
  type Seen = { text: string; imgs: number; scripts: number; title: string } | null;
  const end = Date.now() + 15_000;
  let last: Seen = null;
  while (Date.now() < end) {
    for (const frame of page.frames()) {
      const seen = await frame
        .evaluate((): Seen => {
          // Runs in the page: the DOM is there, though this file is type-checked for Node.
          const doc = (globalThis as unknown as { document: { title: string; getElementById(id: string): { textContent: string | null; querySelectorAll(s: string): { length: number } } | null } }).document;
          const root = doc.getElementById('root');
          return root ? { text: root.textContent ?? '', imgs: root.querySelectorAll('img').length, scripts: root.querySelectorAll('script').length, title: doc.title } : null;
        })
        .catch(() => null);
      if (seen && seen.text.includes('markup is text')) last = seen;
    }
    if (last) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await page.screenshot({ path: path.join(ARTIFACTS, 'results-panel.png') }).catch(() => undefined);
  if (!last) return 'no results panel showing the run was found';
  if (!last.text.includes(`<img src=x onerror="document.title='pwned-img'">`) || !last.text.includes("<script>document.title='pwned-script'</script>")) return 'the output is not shown as text';
  if (last.imgs || last.scripts || last.title.startsWith('pwned')) return `markup from a model output became live: ${JSON.stringify(last)}`;
  process.stdout.write('results panel: the model output with <script> and <img onerror> is shown as text and ran nothing\n');
  return undefined;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
