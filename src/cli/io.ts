/** Where the CLI writes; injected so tests can run the CLI in-process. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is an interactive terminal (live progress line). */
  isTTY: boolean;
  cwd: string;
  env: Record<string, string | undefined>;
  now(): number;
}

export const EXIT = { ok: 0, failed: 1, invalid: 2, interrupted: 130 } as const;

const useColor = (io: CliIO) => io.isTTY && !io.env.NO_COLOR;

export function colors(io: CliIO) {
  const wrap = (code: string) => (s: string) => (useColor(io) ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { red: wrap('31'), green: wrap('32'), yellow: wrap('33'), dim: wrap('2'), bold: wrap('1') };
}
