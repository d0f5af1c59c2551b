import * as path from 'node:path';
import { spawn } from 'node:child_process';

export const CLI = path.resolve(__dirname, '../../dist/cli.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI as CI and users do. The caller's OPENAI_* variables are not passed on,
 * so no test reaches a real API by accident; `env` adds what a test needs.
 */
export function cli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const merged: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
    delete merged.OPENAI_API_KEY;
    delete merged.OPENAI_BASE_URL;
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...merged, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
