import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { CodeCache, codeCacheDir } from './codecache';

// dist/cli.js: starts the CLI bundle (dist/cli-main.js) from a V8 code cache (see CodeCache).

// A run's peak memory is mostly garbage: with little time spent collecting, V8 lets the heap grow
// to about four times the live data before a full collection. The CLI is a batch process with a
// small live set, so it asks for a smaller growth step (10,000 cases: peak ~250 -> ~205 MB, full
// collections of a few ms each). The editor's extension host is VS Code's process and is left
// alone; a user's own flag wins. Set before anything is compiled: V8 keys its code caches on flags.
if (!`${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`.includes('heap-growing-percent')) setFlagsFromString('--heap-growing-percent=50');

const cache = new CodeCache(codeCacheDir(process.env));
process.once('exit', () => {
  if (process.env.PROMPTGATE_DEBUG) process.stderr.write(`promptgate: code cache ${JSON.stringify(cache.uses())}\n`);
  cache.save();
});
const cli = cache.require(path.join(__dirname, 'cli-main.js')) as typeof import('./bin');
cli.start();
