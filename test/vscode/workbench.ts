// A real VS Code for tests: code-server 4.100.3 serving the workbench to headless Chromium, on a
// fresh copy of test/fixtures/vscode-ws, with the local OpenAI-compatible model server. Shared by
// the integration runner (extension under development + test payload) and the e2e UI tests
// (extension installed into the extensions folder, driven through the UI).
import * as os from 'node:os';
import * as net from 'node:net';
import * as path from 'node:path';
import { existsSync, promises as fs } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { format } from 'node:util';
import { echoReply, startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { supportAgent } from '../support/agent-model';

/** The project folder: the nearest one above this file (bundled in dist/ or not) with the extension's manifest. */
export const ROOT = (() => {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'src/extension'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no project folder above ${__dirname}`);
    dir = up;
  }
  return dir;
})();
const HARNESS = path.join(ROOT, 'test/vscode/harness');
const CODE_SERVER = path.join(HARNESS, 'node_modules/code-server/out/node/entry.js');
export const ARTIFACTS = path.join(ROOT, 'test-results/vscode');
/** The packaged extension, as `npm run package` writes it. */
export const VSIX = path.join(ROOT, 'dist/promptgate.vsix');

/** The part of playwright-core's API the tests use (it is installed in the harness, not the project). */
export interface Locator {
  first(): Locator;
  waitFor(options?: { timeout?: number; state?: 'visible' | 'attached' }): Promise<void>;
  click(options?: { timeout?: number }): Promise<void>;
  hover(): Promise<void>;
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  count(): Promise<number>;
  textContent(): Promise<string | null>;
}
export interface Frame {
  evaluate<T>(fn: () => T): Promise<T>;
}
export interface Page {
  frames(): Frame[];
  exposeFunction(name: string, fn: (...args: never[]) => unknown): Promise<void>;
  goto(url: string): Promise<unknown>;
  screenshot(options: { path: string }): Promise<unknown>;
  waitForSelector(selector: string, options?: { timeout?: number }): Promise<unknown>;
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  keyboard: { press(key: string): Promise<void>; type(text: string): Promise<void> };
}
interface Chromium {
  launch(options: { executablePath: string; headless: boolean; env: NodeJS.ProcessEnv; args: string[] }): Promise<{
    newContext(options: { viewport: { width: number; height: number } }): Promise<{ newPage(): Promise<Page> }>;
    close(): Promise<void>;
  }>;
}

export interface Workbench {
  page: Page;
  port: number;
  ws: string;
  scratch: string;
  model: FakeOpenAI;
  /** Opens the workbench on the workspace, with an optional test payload. */
  open(payload?: [string, string][]): Promise<void>;
  remote(p: string): string;
  log(): string;
  close(): Promise<void>;
}

export function harnessInstalled(): boolean {
  return existsSync(CODE_SERVER) && existsSync('/usr/bin/chromium');
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

export async function launchWorkbench(options: { installExtension?: boolean; env?: Record<string, string>; modelLatencyMs?: number; untrusted?: boolean } = {}): Promise<Workbench> {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-vscode-'));
  const ws = path.join(scratch, 'ws');
  await fs.cp(path.join(ROOT, 'test/fixtures/vscode-ws'), ws, { recursive: true });
  const data = path.join(scratch, 'data');
  await fs.mkdir(path.join(data, 'User'), { recursive: true });
  await fs.writeFile(
    path.join(data, 'User/settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      // Untrusted: workspace trust on, no startup prompt, so the folder opens in Restricted Mode.
      'security.workspace.trust.enabled': !!options.untrusted,
      'security.workspace.trust.startupPrompt': 'never',
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
  const extDir = path.join(scratch, 'ext');
  await fs.mkdir(extDir, { recursive: true });
  const xdg = (k: string) => path.join(scratch, 'xdg', k);
  // EXTENSIONS_GALLERY without a serviceUrl turns the marketplace off: nothing leaves loopback.
  const serverEnv = { ...process.env, XDG_CONFIG_HOME: xdg('config'), XDG_DATA_HOME: xdg('data'), XDG_CACHE_HOME: xdg('cache'), EXTENSIONS_GALLERY: '{}' };
  if (options.installExtension) {
    // What a user does: install the packaged .vsix (npm run package) into this VS Code.
    if (!existsSync(VSIX)) throw new Error(`${VSIX} is missing: run npm run package`);
    const out = spawnSync(process.execPath, [CODE_SERVER, '--config', path.join(scratch, 'config.yaml'), '--user-data-dir', data, '--extensions-dir', extDir, '--install-extension', VSIX], { env: serverEnv, encoding: 'utf8', timeout: 60_000 });
    if (out.status !== 0 || !/successfully installed/i.test(out.stdout)) throw new Error(`installing ${VSIX} failed (${out.status}): ${out.stdout}${out.stderr}`);
  }
  // A user message asking the model to hang gets no answer (the tests cancel such runs); one asking
  // for [500] or [reset] gets that fault every time.
  const asks = (body: { messages: { role: string; content?: unknown }[] }, what: string) => body.messages.some((m) => m.role === 'user' && String(m.content).includes(what));
  const model = await startFakeOpenAI({
    keepRequests: false,
    // A request that declares tools is the support agent's: the scripted tool-calling model answers it.
    respond: (body) => (body.tools ? supportAgent(body) : echoReply(body)),
    latencyMs: options.modelLatencyMs,
    fault: (_n, body) => (asks(body, '[hang]') ? { kind: 'hang' } : asks(body, '[500]') ? { kind: '500' } : asks(body, '[reset]') ? { kind: 'reset' } : undefined),
  });
  const port = await freePort();
  let serverLog = '';
  const server: ChildProcess = spawn(
    process.execPath,
    [
      CODE_SERVER,
      '--config', path.join(scratch, 'config.yaml'),
      '--bind-addr', `127.0.0.1:${port}`,
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      ...(options.untrusted ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      '--user-data-dir', data,
      '--extensions-dir', extDir,
      '--ignore-last-opened',
      ws,
    ],
    {
      env: { ...serverEnv, OPENAI_BASE_URL: model.baseURL, OPENAI_API_KEY: '', ...options.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  server.stdout!.on('data', (d: Buffer) => (serverLog += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (serverLog += d.toString()));
  let browser: { close(): Promise<void> } | undefined;
  const close = async () => {
    await browser?.close().catch(() => undefined);
    try {
      if (server.pid) process.kill(-server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await model.close();
    await fs.rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  };
  try {
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
    const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p}`;
    return {
      page,
      port,
      ws,
      scratch,
      model,
      remote,
      log: () => serverLog,
      close,
      open: async (payload) => {
        const q = payload ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : '';
        await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}${q}`);
      },
    };
  } catch (err) {
    process.stderr.write(`--- code-server log ---\n${serverLog.slice(-4000)}\n`);
    await close();
    throw err;
  }
}

/**
 * Opens the workbench with this folder as the extension under development and runs the mocha
 * suite at dist/test/integration/index.js in its extension host (the test payload). Resolves with
 * the host's exit code; mocha's output is forwarded.
 */
export async function runHostSuite(wb: Workbench, timeoutMs = 180_000, quiet = false): Promise<number> {
  const { page } = wb;
  let exit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  await page.exposeFunction('codeAutomationExit', (code: number) => exit(code));
  await page.exposeFunction('codeAutomationLog', (_type: string, args: unknown[]) => {
    const line = format(...args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))));
    if (line.trim() && !quiet) process.stdout.write(`  │ ${line}\n`);
  });
  await wb.open([
    ['extensionDevelopmentPath', wb.remote(ROOT)],
    ['extensionTestsPath', wb.remote(path.join(ROOT, 'dist/test/integration/index.js'))],
  ]);
  return Promise.race([
    exited,
    new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`the extension host did not finish within ${timeoutMs / 1000} s`)), timeoutMs)),
  ]).catch(async (err) => {
    await page.screenshot({ path: path.join(ARTIFACTS, 'timeout.png') }).catch(() => undefined);
    throw err;
  });
}
