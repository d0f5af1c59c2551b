// The HTML report and the results page in a real browser (headless Chromium through playwright-core,
// from the code-server harness), at 400 px (VS Code's side column) and 1200 px. The reports come
// from the built CLI on a copy of the demo: several replayed runs (the history), a run of the review
// summarizer with another model (the model swap), and a prompt whose model answers with markup.
// Screenshots go to test-results/report/. Run after `npm run build` and the harness setup.
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { startFakeOpenAI } from '../test/support/fake-openai';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'test-results', 'report');
const HARNESS = path.join(ROOT, 'test/vscode/harness');
const MARKUP = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> Refunds take 5 days.';

interface PageLike {
  goto(url: string): Promise<unknown>;
  setViewportSize(s: { width: number; height: number }): Promise<void>;
  waitForFunction(fn: string, arg?: unknown, o?: { timeout: number }): Promise<unknown>;
  evaluate<T>(fn: string | ((arg: never) => T), arg?: unknown): Promise<T>;
  screenshot(o: { path: string; fullPage?: boolean }): Promise<unknown>;
  selectOption(selector: string, value: string): Promise<unknown>;
  fill(selector: string, value: string): Promise<void>;
  click(selector: string, o?: { position?: { x: number; y: number } }): Promise<void>;
  keyboard: { press(key: string): Promise<void> };
  on(event: 'console' | 'pageerror', fn: (x: { type?(): string; text?(): string; message?: string }) => void): void;
  addInitScript(script: string): Promise<void>;
}

function cli(cwd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'dist/cli.js'), ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

async function must(cwd: string, args: string[], env?: Record<string, string>): Promise<string> {
  const r = await cli(cwd, args, env);
  if (r.code !== 0) throw new Error(`promptgate ${args.join(' ')} exited ${r.code}:\n${r.stderr.slice(-2000)}`);
  return r.stderr;
}

/** A demo copy with three replayed runs, a model swap and a prompt answered with markup: the reports. */
async function reports(scratch: string): Promise<{ full: string; swap: string; panel: string }> {
  const ws = path.join(scratch, 'examples');
  await fs.cp(path.join(ROOT, 'examples'), ws, { recursive: true, filter: (src) => !src.includes(`${path.sep}runs`) });
  await fs.writeFile(
    path.join(ws, 'markup.prompt.yml'),
    ['name: Markup echo', 'model: gpt-4o-mini', 'messages:', '  - role: user', '    content: "Say {{x}}"', 'suites:', '  golden:', '    cases:', '      - name: answers with markup', '        vars: { x: hi }', '        assert:', '          - type: icontains', '            value: refund', ''].join('\n'),
  );
  const model = await startFakeOpenAI({ respond: () => ({ content: MARKUP }) });
  try {
    await must(ws, ['test', 'markup.prompt.yml', '--record'], { OPENAI_BASE_URL: model.baseURL, OPENAI_API_KEY: 'sk-test' });
  } finally {
    await model.close();
  }
  await must(ws, ['test', '--replay']);
  await must(ws, ['test', '--replay']);
  const swapped = await must(ws, ['test', 'summarize.prompt.yml', '--replay', '--model', 'gpt-4.1-mini']);
  const swapRun = /runs[\\/](\S+)\.jsonl/.exec(swapped)?.[1];
  if (!swapRun) throw new Error(`no run record named in: ${swapped}`);
  const full = path.join(scratch, 'report.html');
  await must(ws, ['test', '--replay', '--html', full]);
  // The same from a recorded run, without running again.
  const swap = path.join(scratch, 'swap.html');
  await must(ws, ['report', '--run', swapRun, '--html', swap]);
  // The editor's panel: the same script under a stand-in of VS Code's webview API, fed the report's view.
  const view = /<script type="application\/json" id="promptgate-view">([\s\S]*?)<\/script>/.exec(await fs.readFile(full, 'utf8'))![1];
  const panel = path.join(scratch, 'panel.html');
  await fs.writeFile(
    panel,
    `<!DOCTYPE html><html><head><meta charset="UTF-8"><meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${path.join(ROOT, 'media/results.css')}"></head><body><main id="root"></main>
<script>window.__posted = []; window.acquireVsCodeApi = () => ({ getState: () => undefined, setState: () => {}, postMessage: (m) => window.__posted.push(m) });</script>
<script src="${path.join(ROOT, 'dist/webview/results.js')}"></script>
<script>window.postMessage({ type: 'view', view: JSON.parse(${JSON.stringify(view)}) }, '*');</script></body></html>`,
  );
  return { full, swap, panel };
}

/** What must hold on any page at any width: rendered, nothing wider than the window, every chart drawn, no error. */
async function common(page: PageLike, width: number, errors: string[]): Promise<{ charts: number; cases: number }> {
  await page.waitForFunction('document.body.dataset.rendered !== undefined', undefined, { timeout: 15_000 });
  const r = await page.evaluate(`(() => {
    const W = window.innerWidth;
    const wide = [];
    for (const e of document.querySelectorAll('#root *')) {
      const b = e.getBoundingClientRect();
      if (!b.width && !b.height) continue;
      if (b.right > W + 1 || b.left < -1) wide.push(e.tagName + '.' + e.className + ' ' + Math.round(b.left) + '..' + Math.round(b.right));
      const s = getComputedStyle(e);
      if (s.overflowX !== 'visible' && e.scrollWidth > e.clientWidth + 1) wide.push('clipped ' + e.tagName + '.' + e.className);
    }
    const charts = [...document.querySelectorAll('canvas')].map((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let inked = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) inked++;
      return inked;
    });
    const visible = (sel) => { const e = document.querySelector(sel); if (!e) return false; const b = e.getBoundingClientRect(); return b.width > 0 && b.height > 0; };
    return { scroll: document.documentElement.scrollWidth, W, wide: wide.slice(0, 5), charts, header: visible('header'), search: visible('input[type=search]'), gate: visible('.badge'), cases: document.querySelectorAll('details.case').length };
  })()`) as { scroll: number; W: number; wide: string[]; charts: number[]; header: boolean; search: boolean; gate: boolean; cases: number };
  const problems: string[] = [];
  if (r.scroll > r.W + 1) problems.push(`the page scrolls sideways at ${width} px (${r.scroll} > ${r.W})`);
  if (r.wide.length) problems.push(`elements reach past the window or are clipped at ${width} px: ${r.wide.join('; ')}`);
  if (!r.charts.length) problems.push('no chart');
  if (r.charts.some((n) => n < 200)) problems.push(`a chart was not drawn (inked pixels: ${r.charts.join(', ')})`);
  if (!r.header || !r.search || !r.gate) problems.push(`not visible: ${[!r.header && 'header', !r.search && 'search box', !r.gate && 'gate'].filter(Boolean).join(', ')}`);
  if (!r.cases) problems.push('no case listed');
  if (errors.length) problems.push(`page errors: ${errors.join(' | ')}`);
  if (problems.length) throw new Error(problems.join('\n'));
  return { charts: r.charts.length, cases: r.cases };
}

async function main(): Promise<number> {
  const chromiumPath = '/usr/bin/chromium';
  if (!(await fs.stat(chromiumPath).catch(() => undefined)) || !(await fs.stat(path.join(HARNESS, 'node_modules/playwright-core')).catch(() => undefined))) {
    process.stderr.write('report-browser: the harness is not installed; run scripts/vscode-harness-setup.sh\n');
    return 1;
  }
  await fs.mkdir(OUT, { recursive: true });
  const scratch = await fs.mkdtemp(path.join(tmpdir(), 'pg-report-'));
  const { chromium } = createRequire(path.join(HARNESS, 'package.json'))('playwright-core') as { chromium: { launch(o: unknown): Promise<{ newPage(o?: unknown): Promise<PageLike>; close(): Promise<void> }> } };
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--allow-file-access-from-files'] });
  let failed = 0;
  const check = async (name: string, fn: () => Promise<string>) => {
    try {
      process.stdout.write(`  ✓ ${name}: ${await fn()}\n`);
    } catch (err) {
      failed++;
      process.stdout.write(`  ✗ ${name}\n    ${String((err as Error).message).replace(/\n/g, '\n    ')}\n`);
    }
  };
  try {
    const files = await reports(scratch);
    const html = await fs.readFile(files.full, 'utf8');
    await check('the HTML report is one file that loads nothing from the network', async () => {
      if (/(src|href)=["']?(https?:)?\/\//i.test(html)) throw new Error('the report links to a network resource');
      if (!html.includes("default-src 'none'")) throw new Error('the report has no Content-Security-Policy');
      return `${(html.length / 1024).toFixed(0)} KB`;
    });
    for (const width of [400, 1200]) {
      const open = async (file: string) => {
        const page = await browser.newPage({ viewport: { width, height: 900 } });
        const errors: string[] = [];
        await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => (window.__csp = (window.__csp || []).concat(e.violatedDirective + ' ' + e.blockedURI)))`);
        page.on('pageerror', (e) => errors.push(String(e.message)));
        page.on('console', (m) => m.type?.() === 'error' && errors.push(m.text?.() ?? ''));
        await page.goto(`file://${file}`);
        return { page, errors };
      };
      await check(`the HTML report of the demo at ${width} px: header, charts, history, cases, markup kept as text`, async () => {
        const { page, errors } = await open(files.full);
        const r = await common(page, width, errors);
        const x = await page.evaluate(`(() => ({
          pwned: window.__pwned, csp: window.__csp || [],
          markupText: document.getElementById('root').textContent.includes('<img src=x onerror='),
          injected: document.querySelectorAll('#root img, #root script').length,
          sections: [...document.querySelectorAll('section h2')].map((h) => h.textContent),
          runs: document.querySelectorAll('section[aria-label=History] select option').length - 1,
          histories: document.querySelectorAll('.history canvas').length,
        }))()`) as { pwned?: number; csp: string[]; markupText: boolean; injected: number; sections: string[]; runs: number; histories: number };
        if (x.pwned !== undefined || x.injected || !x.markupText) throw new Error(`model output was not kept as text (pwned ${x.pwned}, elements ${x.injected}, text shown ${x.markupText})`);
        if (x.csp.length) throw new Error(`CSP violations: ${x.csp.join(', ')}`);
        for (const s of ['Pass rate by suite', 'Attack success by category', 'History', 'Cases']) if (!x.sections.includes(s)) throw new Error(`no section '${s}' (sections: ${x.sections.join(', ')})`);
        if (x.runs < 3) throw new Error(`the history has ${x.runs} runs, not at least 3`);
        // A run of the history, picked from the keyboard's list and by clicking the chart's right end (the newest run).
        await page.selectOption('section[aria-label=History] select', await page.evaluate(`document.querySelectorAll('section[aria-label=History] select option')[2].value`));
        const picked = await page.evaluate(`document.querySelector('.picked').textContent`);
        if (!/^run \S+/.test(String(picked))) throw new Error(`picking a run shows '${picked}'`);
        await clickHistoryUntil(page, 0.95, `document.querySelector('.picked').textContent.includes('(this report)')`);
        const clicked = String(await page.evaluate(`document.querySelector('.picked').textContent`));
        if (!clicked.includes('(this report)')) throw new Error(`clicking the newest point shows '${clicked}'`);
        // The search box filters the 130 cases.
        await page.fill('input[type=search]', 'banking77-test-0040');
        const count = await page.evaluate(`document.querySelector('section[aria-label=Cases] .toolbar .detail').textContent`);
        if (!String(count).startsWith('1 of ')) throw new Error(`searching one case shows '${count}'`);
        await page.fill('input[type=search]', '');
        await page.screenshot({ path: path.join(OUT, `report-${width}.png`), fullPage: true });
        return `${r.charts} charts drawn, ${x.histories} history charts over ${x.runs} runs, ${r.cases} cases listed, markup shown as text`;
      });
      await check(`the report of the recorded model-swap run at ${width} px: the two models side by side`, async () => {
        const { page, errors } = await open(files.swap);
        const r = await common(page, width, errors);
        const cells = (await page.evaluate(`[...document.querySelectorAll('.compare')].map((c) => [...c.querySelectorAll('.cell')].map((x) => x.textContent))`)) as string[][];
        if (cells.length !== 2 || cells.some((c) => c.length !== 2 || !c[0].includes('gpt-4o-mini (baseline)') || !c[1].includes('gpt-4.1-mini (this run)'))) throw new Error(`side by side: ${JSON.stringify(cells)}`);
        if (!cells[0][1].includes('Light, quick to boil')) throw new Error(`the swapped model's answer is missing: ${cells[0][1]}`);
        await page.screenshot({ path: path.join(OUT, `swap-${width}.png`), fullPage: true });
        return `${cells.length} cases side by side, ${r.charts} charts`;
      });
      await check(`the editor's results page at ${width} px: the same view, a history point asks the editor to open its run`, async () => {
        const { page, errors } = await open(files.panel);
        const r = await common(page, width, errors);
        await clickHistoryUntil(page, 0.3, `(window.__posted || []).some((m) => m.type === 'openRun')`);
        const posted = (await page.evaluate('window.__posted')) as { type: string; runId?: string }[];
        const opened = posted.find((m) => m.type === 'openRun');
        if (!opened?.runId) throw new Error(`clicking a history point posted ${JSON.stringify(posted)}`);
        // Keyboard: Tab reaches the search box and the cases' summaries.
        await page.evaluate(`document.activeElement && document.activeElement.blur()`);
        const reached = new Set<string>();
        for (let i = 0; i < 14; i++) {
          await page.keyboard.press('Tab');
          reached.add(String(await page.evaluate(`document.activeElement ? document.activeElement.tagName + (document.activeElement.type ? ':' + document.activeElement.type : '') : ''`)));
        }
        for (const want of ['INPUT:search', 'SUMMARY']) if (![...reached].some((x) => x.startsWith(want))) throw new Error(`Tab never reaches ${want} (reached ${[...reached].join(', ')})`);
        await page.screenshot({ path: path.join(OUT, `panel-${width}.png`), fullPage: false });
        return `${r.charts} charts, ${r.cases} cases; a click on the history posted openRun ${opened.runId}`;
      });
    }
  } finally {
    await browser.close();
    if (!process.env.KEEP_SCRATCH) await fs.rm(scratch, { recursive: true, force: true });
    else process.stdout.write(`scratch kept: ${scratch}\n`);
  }
  process.stdout.write(failed ? `report-browser: ${failed} failed\n` : `report-browser: all passed; screenshots in ${path.relative(ROOT, OUT)}\n`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);

/**
 * Clicks the first history chart at `x` (a share of its width) until `condition` holds in the page,
 * at most ten times: a chart may still be laying out (a scroll bar appearing resizes it), so the
 * canvas is measured again before each click.
 */
async function clickHistoryUntil(page: PageLike, x: number, condition: string): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const box = (await page.evaluate(`(() => { const b = document.querySelector('.history canvas').getBoundingClientRect(); return { w: b.width, h: b.height }; })()`)) as { w: number; h: number };
    await page.click('.history canvas', { position: { x: box.w * x, y: box.h / 2 } });
    if (await page.waitForFunction(condition, undefined, { timeout: 1000 }).then(() => true, () => false)) return;
  }
}
