import { setFlagsFromString } from 'node:v8';
import { main } from './main';
import type { CliIO } from './io';

// A run's peak memory is mostly garbage: with little time spent collecting, V8 lets the heap grow
// to about four times the live data before a full collection. The CLI is a batch process with a
// small live set, so it asks for a smaller growth step (10,000 cases: peak ~250 -> ~205 MB, full
// collections of a few ms each). The editor's extension host is VS Code's process and is left
// alone; a user's own flag wins.
if (!`${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`.includes('heap-growing-percent')) setFlagsFromString('--heap-growing-percent=50');

const io: CliIO = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  isTTY: !!process.stderr.isTTY,
  cwd: process.cwd(),
  env: process.env,
  now: () => Date.now(),
};

// First Ctrl-C cancels the run (pending cases are skipped, reports still written); a second one quits.
const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(130);
  process.stderr.write('\ncancelling… (Ctrl-C again to quit now)\n');
  controller.abort();
});

main(process.argv.slice(2), io, controller.signal).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`promptgate: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 3;
  },
);
