// Runs the integration suite inside a real VS Code: code-server (npm) serving the workbench to
// headless Chromium (apt), with this folder as the extension under development and
// dist/test/integration/index.js as its tests (the URL payload that @vscode/test-electron also uses).
// The model is the local OpenAI-compatible test server started here. Exit code: 0 when every test passed.
import * as os from 'node:os';
import * as path from 'node:path';
import { existsSync, promises as fs } from 'node:fs';
import { ARTIFACTS, harnessInstalled, launchWorkbench, runHostSuite, type Page, type Workbench } from '../test/vscode/workbench';

interface HostResults {
  passed: number;
  failed: number;
  failures: { title: string; error: string }[];
}

/** Runs one host suite in a fresh code-server; `check` adds checks in the page or on the model server. */
async function runSuite(suite: 'extension' | 'untrusted', check: (wb: Workbench) => Promise<string | undefined>): Promise<HostResults & { ok: boolean }> {
  const results = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-results-')), 'results.json');
  const wb = await launchWorkbench({ untrusted: suite === 'untrusted', env: { PROMPTGATE_VSCODE_RESULTS: results, PROMPTGATE_VSCODE_SUITE: suite } });
  try {
    const code = await runHostSuite(wb);
    await wb.page.screenshot({ path: path.join(ARTIFACTS, `integration-${suite}-end.png`) }).catch(() => undefined);
    const problem = await check(wb);
    const r = existsSync(results) ? (JSON.parse(await fs.readFile(results, 'utf8')) as HostResults) : undefined;
    for (const f of r?.failures ?? []) process.stdout.write(`✗ ${f.title}\n${f.error}\n\n`);
    if (!r) process.stderr.write(`vscode: the ${suite} suite wrote no results: the tests did not load\n`);
    if (problem) process.stdout.write(`✗ ${suite}: ${problem}\n`);
    const passed = (r?.passed ?? 0) + (problem ? 0 : 1);
    const failed = (r?.failed ?? 0) + (problem ? 1 : 0);
    return { passed, failed, failures: r?.failures ?? [], ok: code === 0 && !!r && failed === 0 && passed > 1 };
  } catch (err) {
    process.stderr.write(`vscode: ${(err as Error).message}\n--- code-server log ---\n${wb.log().slice(-4000)}\n`);
    return { passed: 0, failed: 1, failures: [], ok: false };
  } finally {
    await wb.close();
    await fs.rm(path.dirname(results), { recursive: true, force: true }).catch(() => undefined);
  }
}

async function main(): Promise<number> {
  if (!harnessInstalled()) {
    process.stderr.write('vscode: the harness is not installed; run scripts/vscode-harness-setup.sh\n');
    return 1;
  }
  const t0 = Date.now();
  const main = await runSuite('extension', (wb) => checkResultsPanel(wb.page));
  // Restricted Mode: the host suite checks the editor side; here, that no request reached the model.
  const untrusted = await runSuite('untrusted', async (wb) => (wb.model.count ? `the model server got ${wb.model.count} requests from an untrusted workspace` : undefined));
  process.stdout.write(`integration tests in code-server 4.100.3 (VS Code 1.100.3), headless Chromium: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`vscode: ${main.passed + untrusted.passed} passed, ${main.failed + untrusted.failed} failed\n`);
  return main.ok && untrusted.ok ? 0 : 1;
}

/**
 * In the page itself: the results panel (a webview iframe) shows the run, and an output holding
 * <script>, event handlers, javascript: links, CSS and frames is text: no such element exists, nothing
 * ran or restyled the page, and the CSP allows only this page's nonce scripts. Returns a problem, or undefined.
 */
async function checkResultsPanel(page: Page): Promise<string | undefined> {
  type Seen = { text: string; live: number; title: string; rootDisplay: string; csp: string } | null;
  const end = Date.now() + 15_000;
  let last: Seen = null;
  while (Date.now() < end) {
    for (const frame of page.frames()) {
      const seen = await frame
        .evaluate((): Seen => {
          // Runs in the page: the DOM is there, though this file is type-checked for Node.
          type El = { textContent: string | null; querySelectorAll(s: string): { length: number }; getAttribute(n: string): string | null };
          const g = globalThis as unknown as { document: { title: string; getElementById(id: string): El | null; querySelector(s: string): El | null }; getComputedStyle(e: El): { display: string } };
          const doc = g.document;
          const root = doc.getElementById('root');
          if (!root) return null;
          // Anything an output could have turned into live markup: elements, handlers, links, styles, frames.
          const live = root.querySelectorAll('img, script, svg, style, iframe, a[href^="javascript"], [onerror], [onload], [style*="position"]').length;
          return { text: root.textContent ?? '', live, title: doc.title, rootDisplay: g.getComputedStyle(root).display, csp: doc.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '' };
        })
        .catch(() => null);
      if (seen && seen.text.includes('markup is text')) last = seen;
    }
    if (last) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await page.screenshot({ path: path.join(ARTIFACTS, 'results-panel.png') }).catch(() => undefined);
  if (!last) return 'no results panel showing the run was found';
  for (const payload of [`<img src=x onerror="document.title='pwned-img'">`, "<script>document.title='pwned-script'</script>", `<a href="javascript:document.title='pwned-link'">`, '<style>#root{display:none}', '<iframe srcdoc=']) {
    if (!last.text.includes(payload)) return `the output is not shown as text (missing ${payload})`;
  }
  if (last.live || last.title.startsWith('pwned') || last.rootDisplay === 'none') return `markup from a model output became live: ${JSON.stringify({ ...last, text: undefined })}`;
  // The policy itself: scripts only with this page's nonce, nothing inline, no eval, nothing from elsewhere.
  const scriptSrc = /script-src ([^;]*)/.exec(last.csp)?.[1].trim() ?? '';
  if (!/^'nonce-[A-Za-z0-9+/=]+'$/.test(scriptSrc) || /unsafe-inline|unsafe-eval/.test(last.csp) || !/default-src 'none'/.test(last.csp)) return `a weak Content-Security-Policy: ${last.csp}`;
  if (!/Attack success by category.*injection/.test(last.text)) return 'the panel does not show the attack success by category';
  process.stdout.write('results panel: model output with <script>, event handlers, javascript: links, <style>, inline styles and <iframe> is text and ran nothing; the CSP allows only nonce scripts\n');
  return undefined;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
