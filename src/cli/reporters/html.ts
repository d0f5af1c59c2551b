import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { resultsView } from '../../core';
import type { RunReport } from './types';

/**
 * The results page the editor's panel shows, as one self-contained HTML file (`--html FILE`): the
 * page script with Chart.js and its stylesheet inlined under a Content-Security-Policy that allows
 * no network at all, and the run as JSON data that the script renders as text and charts. The
 * data is escaped so no output can close its script element.
 */
export function htmlReport(report: RunReport): string {
  const view = resultsView(report, { history: report.history });
  const { script, style } = pageAssets();
  const nonce = randomBytes(16).toString('base64');
  const data = JSON.stringify(view).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  const title = `PromptGate: ${report.stopped ? 'stopped' : report.gate === 'failed' ? 'gate failed' : 'gate passed'} · ${report.summary.startedAt}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${title.replace(/[<&]/g, (c) => (c === '<' ? '&lt;' : '&amp;'))}</title>
<style nonce="${nonce}">${style}</style>
</head>
<body>
<main id="root"></main>
<script type="application/json" id="promptgate-view">${data}</script>
<script nonce="${nonce}">${script.replace(/<\/script/gi, '<\\/script')}</script>
</body>
</html>
`;
}

let assets: { script: string; style: string } | undefined;

/** The built page script (dist/webview/results.js) and media/results.css, beside the bundle or, from source, in the checkout. */
function pageAssets(): { script: string; style: string } {
  if (assets) return assets;
  const bundled = process.env.PROMPTGATE_BUNDLE === '1';
  const root = bundled ? path.join(__dirname, '..') : path.join(__dirname, '..', '..', '..');
  const read = (rel: string, what: string) => {
    try {
      return readFileSync(path.join(root, rel), 'utf8');
    } catch (err) {
      throw new Error(`the HTML report needs ${what} (${rel}): ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'run `npm run build` first' : (err as Error).message}`);
    }
  };
  assets = { script: read(path.join('dist', 'webview', 'results.js'), 'the built page script'), style: read(path.join('media', 'results.css'), 'the page stylesheet') };
  return assets;
}
