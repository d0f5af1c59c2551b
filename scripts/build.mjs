// Bundles the CLI and the extension with esbuild. `--watch` rebuilds on change (used by F5).
import * as esbuild from 'esbuild';
import { dirname } from 'node:path';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';

const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  legalComments: 'linked',
};
// zod carries error messages in ~50 languages (a third of the CLI bundle) and PromptGate reports
// in English only (zod's default): the bundle keeps the English ones.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.c?js$/ }, (args) => ({
      contents: args.path.endsWith('.cjs') ? "module.exports = { en: require('./en.cjs').default };" : "export { default as en } from './en.js';",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};
// The CLI and the extension leave rarely needed libraries to dist/vendor/ (see src/core/vendor.ts).
const shipped = { ...common, define: { 'process.env.PROMPTGATE_BUNDLE': '"1"' }, plugins: [zodEnglishOnly] };
const builds = [
  // dist/cli.js is a small launcher that runs the bundle, dist/cli-main.js, from a V8 code cache.
  { ...shipped, entryPoints: ['src/cli/launch.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' }, external: ['./bin'] },
  { ...shipped, entryPoints: ['src/cli/bin.ts'], outfile: 'dist/cli-main.js' },
  { ...shipped, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  // The SDK gets a light Headers of its own instead of undici's global one (see scripts/vendor/headers.ts).
  { ...common, sourcemap: false, entryPoints: ['scripts/vendor/openai.ts'], outdir: 'dist/vendor', inject: ['scripts/vendor/headers.ts'] },
  { ...common, sourcemap: false, entryPoints: ['scripts/vendor/anthropic.ts', 'scripts/vendor/ajv.ts', 'scripts/vendor/junit-report-builder.ts', 'scripts/vendor/csv-parse-sync.ts', 'scripts/vendor/yaml.ts', 'scripts/vendor/mathjs.ts', 'scripts/vendor/otel.ts'], outdir: 'dist/vendor' },
  // The results page (panel and HTML report) with Chart.js, for the browser; its licence notices stay in the file.
  { bundle: true, platform: 'browser', target: 'chrome120', format: 'iife', minify: true, legalComments: 'eof', logLevel: 'warning', entryPoints: ['media/results.js'], outfile: 'dist/webview/results.js' },
  { ...common, entryPoints: ['scripts/bench.ts'], outfile: 'dist/bench.js', external: ['playwright-core'] },
  { ...common, entryPoints: ['scripts/vscode-test.ts'], outfile: 'dist/vscode-test.js', external: ['playwright-core'] },
  { ...common, entryPoints: ['scripts/report-browser.ts'], outfile: 'dist/report-browser.js', external: ['playwright-core'] },
  { ...common, entryPoints: ['scripts/vscode-e2e.ts'], outfile: 'dist/vscode-e2e.js', external: ['playwright-core'] },
  { ...common, entryPoints: ['scripts/vscode-test-electron.ts'], outfile: 'dist/vscode-test-electron.js', external: ['playwright-core', '@vscode/test-electron'] },
  // Loaded by the extension host (extensionTestsPath); mocha and vscode come from the host's side.
  { ...common, entryPoints: ['test/integration/index.ts', 'test/integration/extension.test.ts', 'test/integration/bench.test.ts', 'test/integration/untrusted.test.ts'], outdir: 'dist/test/integration', external: ['vscode', 'mocha'] },
];

await mkdir('dist/vendor', { recursive: true });
if (watch) {
  await copyFile('src/core/redteam/corpus.json', 'dist/vendor/corpus.json');
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  await chmod('dist/cli.js', 0o755);
  await keepAscii('dist/cli-main.js');
  await copyFile('src/core/redteam/corpus.json', 'dist/vendor/corpus.json');
}

/**
 * The CLI launcher reads an ASCII bundle as Latin-1 (a third of UTF-8's decoding time, and a
 * one-byte string for V8). esbuild escapes strings and templates but keeps comments, and the
 * comments some dependencies leave inside expressions are not ASCII: those are escaped here. The
 * change is checked: with comments removed, the code must read exactly as before.
 */
async function keepAscii(file) {
  const before = await readFile(file, 'utf8');
  if (!/[^\x00-\x7f]/.test(before)) return;
  const after = before.replace(/^([ \t]*(?:\/\/|\/\*|\*).*)$/gm, (line) => line.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  const code = async (text) => (await esbuild.transform(text, { minifyWhitespace: true, legalComments: 'none', charset: 'utf8' })).code;
  if ((await code(after)) !== (await code(before))) {
    console.warn(`${file}: escaping its comments would change its code; left as UTF-8 (the CLI starts a little slower)`);
    return;
  }
  const left = after.split('\n').filter((l) => /[^\x00-\x7f]/.test(l));
  if (left.length) console.warn(`${file}: ${left.length} lines outside comments are not ASCII, so it is read as UTF-8 (slower start): ${left[0].trim().slice(0, 100)}`);
  await writeFile(file, after);
}
