import { main } from './main';
import type { CliIO } from './io';

/** Runs the CLI on this process's arguments (dist/cli.js calls it from its code cache; see launch.ts). */
export function start(): void {
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
}
