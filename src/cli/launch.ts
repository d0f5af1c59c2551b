import * as path from 'node:path';
import { CodeCache, codeCacheDir } from './codecache';

// dist/cli.js: starts the CLI bundle (dist/cli-main.js) from a V8 code cache (see CodeCache).
//
// V8's own heap sizing is kept: an earlier smaller growth step (--heap-growing-percent=50) held a
// 10,000-case run's peak near ~165 MB instead of ~185 MB, but cost 6-9 % of a run's time in extra
// full collections, and the peak is well under the bench's target without it (npm run bench).

const cache = new CodeCache(codeCacheDir(process.env));
process.once('exit', () => {
  if (process.env.PROMPTGATE_DEBUG) process.stderr.write(`promptgate: code cache ${JSON.stringify(cache.uses())}\n`);
  cache.save();
});
const cli = cache.require(path.join(__dirname, 'cli-main.js')) as typeof import('./bin');
cli.start();
