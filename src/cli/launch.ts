import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { CodeCache, codeCacheDir } from './codecache';

// dist/cli.js: starts the CLI bundle (dist/cli-main.js) from a V8 code cache (see CodeCache).
//
// V8 lets its old space grow to up to four times what survived the last full collection before it
// collects again, so a large run peaked at about three times what it holds. Growing by half keeps
// the peak near what is held: 100,000 cases from a case file, ~265 MB instead of ~420 (npm run
// bench). Set before the bundle loads: the code cache is checked against the flags it was made with.
// A --heap-growing-percent of the user's own (NODE_OPTIONS, node's arguments) wins.
if (![...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('--heap-growing-percent'))) setFlagsFromString('--heap-growing-percent=50');

const cache = new CodeCache(codeCacheDir(process.env));
process.once('exit', () => {
  if (process.env.PROMPTGATE_DEBUG) process.stderr.write(`promptgate: code cache ${JSON.stringify(cache.uses())}\n`);
  cache.save();
});
const cli = cache.require(path.join(__dirname, 'cli-main.js')) as typeof import('./bin');
cli.start();
