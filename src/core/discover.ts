import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import type { Diagnostic } from './diagnostics';
import { PROMPTFOO_FILE } from './formats/promptfoo';

/** Prompt files: PromptGate's and GitHub Models' `NAME.prompt.yml`, and Microsoft Prompty's `NAME.prompty`. */
export const PROMPT_FILE = /\.(?:prompt\.ya?ml|prompty)$/i;
export const SUITE_FILE = /\.suite\.ya?ml$/i;
const SKIP_DIRS = new Set(['node_modules', '.git', '.promptgate', 'dist', 'out', '.vscode-test']);

export interface Discovered {
  promptFiles: string[];
  suiteFiles: string[];
  /** promptfoo configurations: promptfooconfig.yaml in folders, or any other YAML file named on its own. */
  promptfooFiles: string[];
  /** Suite files beside a prompt file that was named on its own; used only if they name that prompt. */
  siblingSuiteFiles: string[];
  diagnostics: Diagnostic[];
}

/** A prompt file by content: top-level `messages` and `model`, and neither of promptfoo's `prompts` and `providers`. */
async function looksLikePromptFile(file: string): Promise<boolean> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return false;
  }
  const top = new Set([...text.matchAll(/^([A-Za-z_][\w-]*)\s*:/gm)].map((m) => m[1]));
  return top.has('messages') && top.has('model') && !top.has('prompts') && !top.has('providers');
}

/** Finds prompt and suite files under the given files and folders, in a stable (sorted) order. */
export async function discoverFiles(paths: readonly string[]): Promise<Discovered> {
  const promptFiles = new Set<string>();
  const suiteFiles = new Set<string>();
  const siblings = new Set<string>();
  const promptfoo = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(full);
      } else if (e.isFile()) {
        if (PROMPT_FILE.test(e.name)) promptFiles.add(full);
        else if (SUITE_FILE.test(e.name)) suiteFiles.add(full);
        else if (PROMPTFOO_FILE.test(e.name)) promptfoo.add(full);
      }
    }
  };
  for (const p of paths) {
    const abs = path.resolve(p);
    let stat;
    try {
      stat = await fs.stat(abs);
    } catch {
      diagnostics.push({ file: abs, message: 'no such file or folder', severity: 'error', code: 'usage' });
      continue;
    }
    if (stat.isDirectory()) await walk(abs);
    else if (PROMPT_FILE.test(abs)) {
      promptFiles.add(abs);
      for (const name of await fs.readdir(path.dirname(abs))) if (SUITE_FILE.test(name)) siblings.add(path.join(path.dirname(abs), name));
    }
    else if (SUITE_FILE.test(abs)) suiteFiles.add(abs);
    else if (/\.ya?ml$/i.test(abs) && !/promptgate\.config\.ya?ml$/i.test(abs)) {
      // Any other YAML named on its own: a GitHub Models prompt saved as plain .yml (by its content), else a promptfoo configuration.
      if (await looksLikePromptFile(abs)) promptFiles.add(abs);
      else promptfoo.add(abs);
    }
    else diagnostics.push({ file: abs, message: 'not a prompt or suite file (expected NAME.prompt.yml, NAME.prompty, NAME.suite.yml or a promptfoo YAML configuration)', severity: 'error', code: 'usage' });
  }
  return {
    promptFiles: [...promptFiles].sort(),
    suiteFiles: [...suiteFiles].sort(),
    siblingSuiteFiles: [...siblings].filter((f) => !suiteFiles.has(f)).sort(),
    promptfooFiles: [...promptfoo].sort(),
    diagnostics,
  };
}
