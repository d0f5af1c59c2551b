import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { CONFIG_FILE, ResponseStore, loadConfig, loadProject, requestKey, writeFileAtomic } from '../core';
import { EXIT, colors, type CliIO } from './io';

const PROMPT = `# A PromptGate prompt: GitHub Models' .prompt.yml format plus versions, typed variables and suites.
name: Ticket summary
description: Summarises a customer support ticket in one line for the triage queue.
version: 1.0.0
model: openai/gpt-4o-mini
modelParameters:
  temperature: 0.2
  maxTokens: 120
variables:
  ticket:
    type: string
    description: The customer's message, verbatim.
  product:
    type: string
    default: Acme Cloud
messages:
  - role: system
    content: |
      You triage support tickets for {{ product }}.
      Reply with one sentence that starts with "Summary:" and names the customer's problem.
  - role: user
    content: "{{ ticket }}"
suites:
  golden:
    assert:
      - type: starts-with
        value: "Summary:"
      - type: word-count
        value: { max: 40 }
    cases:
      - name: login failure
        vars:
          ticket: I can't log in since this morning, it says my password is wrong but I reset it twice.
        assert:
          - type: icontains-any
            value: [log in, login, password]
      - name: billing question
        vars:
          ticket: Why was I charged twice for the March invoice?
        assert:
          - type: icontains
            value: charged twice
`;

const ANSWERS: Record<string, string> = {
  'login failure': 'Summary: The customer cannot log in because their password is rejected even after two resets.',
  'billing question': 'Summary: The customer was charged twice for the March invoice and wants to know why.',
};

/** `promptgate init`: writes a working example prompt, a config file and recorded answers for offline runs. */
export async function initCommand(io: CliIO, dir: string): Promise<number> {
  const c = colors(io);
  const root = path.resolve(io.cwd, dir);
  const promptFile = path.join(root, 'prompts', 'ticket-summary.prompt.yml');
  const configFile = path.join(root, CONFIG_FILE);
  for (const f of [promptFile, configFile]) {
    try {
      await fs.access(f);
      io.err(`${c.red('error')}: ${path.relative(io.cwd, f)} already exists; init writes nothing over existing files\n`);
      return EXIT.invalid;
    } catch {
      // absent, as it should be
    }
  }
  await writeFileAtomic(configFile, `# PromptGate project settings (all optional).\nconcurrency: 8\ncassettesDir: .promptgate/cassettes\n# prices:            # USD per million tokens, for models not in the built-in table\n#   my-model: { input: 0.5, output: 1.5 }\n`);
  await writeFileAtomic(promptFile, PROMPT);

  // Recorded answers, keyed like live requests, so `promptgate test --replay` passes at once.
  const { config } = await loadConfig(root);
  const project = await loadProject({ root, paths: [promptFile] });
  const cassettes = new ResponseStore(config.cassettesDir);
  for (const k of project.cases) {
    const output = ANSWERS[k.name];
    if (output === undefined) continue;
    const words = output.split(/\s+/).length;
    await cassettes.put({
      key: requestKey(k.request, 0),
      provider: 'example',
      sample: 0,
      request: k.request,
      response: { output, toolCalls: [], finishReason: 'stop', usage: { promptTokens: 60, completionTokens: words, totalTokens: 60 + words } },
      latencyMs: 420,
    });
  }
  const rel = (f: string) => path.relative(io.cwd, f) || '.';
  io.out(`${c.green('created')} ${rel(configFile)}\n${c.green('created')} ${rel(promptFile)}\n${c.green('created')} recorded answers in ${rel(config.cassettesDir)}\n\n`);
  io.out(`Next:\n  promptgate test ${rel(root) === '.' ? '' : `${rel(root)} `}--replay   # offline, from the recorded answers\n  OPENAI_API_KEY=... promptgate test ${rel(root) === '.' ? '' : rel(root)}   # live\n`);
  return EXIT.ok;
}
