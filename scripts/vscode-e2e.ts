// End-to-end UI tests: the extension installed into a real VS Code (code-server in headless Chromium),
// driven through the workbench as a user would, with a screenshot of every step in test-results/vscode/.
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { ARTIFACTS, harnessInstalled, launchWorkbench, type Page } from '../test/vscode/workbench';

type Step = { name: string; run(page: Page): Promise<void> };

const row = (page: Page, container: string, text: string) => page.locator(`${container} .monaco-list-row`, { hasText: text }).first();

async function palette(page: Page, command: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input').first();
  await input.waitFor();
  await page.keyboard.type(`${command}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
}

/** Opens a file with Quick Open (Ctrl+P), as a user would. */
async function quickOpen(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').first().waitFor();
  await page.keyboard.type(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor();
  await page.keyboard.press('Enter');
}

/** Budget dialogs are real: a step that runs cases accepts one if the budget setting still applies. */
async function acceptBudgetIfAsked(page: Page): Promise<void> {
  const dialog = page.locator('.monaco-dialog-box', { hasText: 'over your budget' }).first();
  try {
    await dialog.waitFor({ timeout: 2_000 });
  } catch {
    return;
  }
  await dialog.locator('.monaco-button', { hasText: 'Run anyway' }).first().click();
}

/** Approve Baseline: the runs took one sample per case, too thin for a baseline, so it offers to top them up. */
async function approveWithTopUp(page: Page): Promise<void> {
  await palette(page, 'PromptGate: Approve Baseline');
  const thin = page.locator('.notifications-toasts .notification-list-item', { hasText: 'too few samples to be a baseline' }).first();
  await thin.waitFor({ timeout: 15_000 });
  await thin.locator('.monaco-button', { hasText: 'Top up and approve' }).first().click();
  await acceptBudgetIfAsked(page);
  await page.locator('.notifications-toasts .notification-list-item-message', { hasText: /PromptGate: approved [1-9]\d* case/ }).first().waitFor({ timeout: 60_000 });
}

async function main(): Promise<number> {
  if (!harnessInstalled()) {
    process.stderr.write('e2e: the harness is not installed; run scripts/vscode-harness-setup.sh\n');
    return 1;
  }
  const wb = await launchWorkbench({ installExtension: true });
  const steps: Step[] = [
    {
      name: 'the workbench opens the workspace with the extension installed from its .vsix',
      run: async (page) => {
        // Seeded before the window opens, so the first run already sees it (a later edit of the
        // settings file reaches the extension host only through a file watcher, after a delay).
        await fs.writeFile(path.join(wb.ws, '.vscode/settings.json'), JSON.stringify({ 'promptgate.budget': 0.00001 }));
        await wb.open();
        await page.waitForSelector('.monaco-workbench', { timeout: 30_000 });
        await row(page, '.explorer-folders-view', 'greet.prompt.yml').waitFor({ timeout: 30_000 });
      },
    },
    {
      name: 'opening a prompt shows the CodeLens above it',
      run: async (page) => {
        await quickOpen(page, 'greet.prompt.yml');
        await page.locator('.tabs-container .tab', { hasText: 'greet.prompt.yml' }).first().waitFor();
        await page.locator('.monaco-editor .codelens-decoration', { hasText: 'Run 2 cases' }).first().waitFor({ timeout: 30_000 });
      },
    },
    {
      name: 'a run estimated above the budget asks first, and declining runs nothing',
      run: async (page) => {
        const before = wb.model.count;
        const dialog = page.locator('.monaco-dialog-box', { hasText: 'over your budget' }).first();
        await palette(page, 'PromptGate: Run All');
        await dialog.waitFor({ timeout: 15_000 });
        await wb.page.screenshot({ path: path.join(ARTIFACTS, 'e2e-budget-dialog.png') });
        await dialog.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
        await new Promise((r) => setTimeout(r, 500));
        if (wb.model.count !== before) throw new Error(`declined, yet ${wb.model.count - before} model calls were made`);
        await fs.writeFile(path.join(wb.ws, '.vscode/settings.json'), '{}');
      },
    },
    {
      name: 'running from the Test Explorer shows pass and fail icons',
      run: async (page) => {
        await palette(page, 'Testing: Focus on Test Explorer View');
        await row(page, '.test-explorer', 'ws').waitFor({ timeout: 30_000 });
        await palette(page, 'Test: Run All Tests');
        await acceptBudgetIfAsked(page);
        // The tree shows the failing folder; the editor's gutter shows the passing cases.
        await page.locator('.test-explorer .codicon-testing-failed-icon').first().waitFor({ timeout: 30_000 });
        await page.locator('.monaco-editor .codicon-testing-passed-icon').first().waitFor({ timeout: 30_000 });
        await page.locator('.test-explorer', { hasText: '3/4' }).first().waitFor({ timeout: 15_000 });
      },
    },
    {
      name: 'a prompt edit that regresses opens in the diff editor',
      run: async (page) => {
        // The runs so far took one sample per case: too thin for a baseline, so approving offers to top them up.
        await approveWithTopUp(page);
        const file = path.join(wb.ws, 'greet.prompt.yml');
        await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('Say hello', 'Say hi'));
        await palette(page, 'PromptGate: Reload Prompt Files');
        await palette(page, 'Test: Run All Tests');
        await acceptBudgetIfAsked(page);
        await page.locator('.monaco-editor .codelens-decoration', { hasText: 'regressed' }).first().waitFor({ timeout: 30_000 });
        await palette(page, 'PromptGate: Show Regression Diff');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'ann' }).first().waitFor({ timeout: 15_000 });
        await page.keyboard.press('Enter');
        await page.locator('.monaco-diff-editor').first().waitFor({ timeout: 15_000 });
        await page.locator('.tabs-container .tab', { hasText: 'baseline ↔ current' }).first().waitFor({ timeout: 15_000 });
      },
    },
    {
      name: 'the results panel opens from the command palette',
      run: async (page) => {
        await palette(page, 'PromptGate: Show Results');
        await page.locator('.tabs-container .tab', { hasText: 'PromptGate Results' }).first().waitFor({ timeout: 15_000 });
        const end = Date.now() + 15_000;
        for (;;) {
          let found = false;
          for (const frame of page.frames()) {
            // The page as the webview shows it: the run's text, and the pass-rate chart drawn on its canvas.
            const seen = await frame
              .evaluate(() => {
                const doc = (globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } | null; querySelector(s: string): { width: number; height: number; getContext(k: string): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } } | null } }).document;
                const canvas = doc.querySelector('section canvas');
                let inked = 0;
                if (canvas) for (let i = 3, d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data; i < d.length; i += 4) if (d[i] > 0) inked++;
                return { text: doc.getElementById('root')?.textContent ?? '', inked };
              })
              .catch(() => ({ text: '', inked: 0 }));
            if (seen.text.includes('regressed') && seen.text.includes('markup is text') && seen.text.includes('Pass rate by suite') && seen.inked > 200) found = true;
          }
          if (found) {
            await wb.page.screenshot({ path: path.join(ARTIFACTS, 'e2e-results-panel.png') });
            break;
          }
          if (Date.now() > end) throw new Error('the results panel does not show the run');
          await new Promise((r) => setTimeout(r, 250));
        }
      },
    },
    {
      name: 'promoting from the command palette: the label picker, missing evidence gathered from the dialog, confirmation; the lens follows',
      run: async (page) => {
        await quickOpen(page, 'farewell.prompt.yml');
        await page.locator('.monaco-editor .codelens-decoration', { hasText: 'Promote…' }).first().waitFor({ timeout: 30_000 });
        // production needs 2 samples per case (the workspace's policy); the runs so far took 1.
        await palette(page, 'PromptGate: Promote Prompt Version…');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'the policy needs 2' }).first().waitFor({ timeout: 15_000 });
        await wb.page.screenshot({ path: path.join(ARTIFACTS, 'e2e-promote-labels.png') });
        await page.keyboard.type('production');
        await page.keyboard.press('Enter');
        const refused = page.locator('.monaco-dialog-box', { hasText: 'Promote farewell to production?' }).first();
        await refused.waitFor({ timeout: 15_000 });
        await refused.locator('.monaco-button', { hasText: 'Force with a Reason' }).first().waitFor();
        await wb.page.screenshot({ path: path.join(ARTIFACTS, 'e2e-promote-missing-evidence.png') });
        await refused.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
        await fs.access(path.join(wb.ws, '.promptgate/registry/prompts/farewell/labels.json')).then(
          () => Promise.reject(new Error('a cancelled promotion wrote a label')),
          () => undefined,
        );
        // Again, and this time gather the evidence from the dialog: the suites run with 2 samples,
        // then the same question comes back with the evidence met.
        await palette(page, 'PromptGate: Promote Prompt Version…');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'production' }).first().waitFor({ timeout: 15_000 });
        await page.keyboard.type('production');
        await page.keyboard.press('Enter');
        await refused.waitFor({ timeout: 15_000 });
        await refused.locator('.monaco-button', { hasText: 'Run the Suites (2 samples)' }).first().click();
        const confirm = page.locator('.monaco-dialog-box', { hasText: 'The evidence meets the policy.' }).first();
        await confirm.waitFor({ timeout: 30_000 });
        await confirm.locator('.monaco-button', { hasText: /^Promote$/ }).first().click();
        await page.locator('.notifications-toasts .notification-list-item-message', { hasText: 'PromptGate: production: farewell v1' }).first().waitFor({ timeout: 15_000 });
        await page.locator('.monaco-editor .codelens-decoration', { hasText: 'production v1' }).first().waitFor({ timeout: 15_000 });
      },
    },
    {
      name: 'prompt history: pick a version, compare it with the file in the diff editor',
      run: async (page) => {
        await palette(page, 'PromptGate: Show Prompt History');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'v1' }).first().waitFor({ timeout: 15_000 });
        await page.keyboard.type('v1');
        await page.keyboard.press('Enter');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'This file' }).first().waitFor({ timeout: 15_000 });
        await page.keyboard.type('This file');
        await page.keyboard.press('Enter');
        await page.locator('.tabs-container .tab', { hasText: 'farewell: v1 ↔ this file' }).first().waitFor({ timeout: 15_000 });
        await page.locator('.monaco-diff-editor').first().waitFor({ timeout: 15_000 });
      },
    },
    {
      name: "an agent case that changes its way regresses, and its diff shows the tool calls before the answer",
      run: async (page) => {
        // The example support agent, reduced to one case; its tools are mocked, the model is the scripted tool-calling one.
        const agent = (await fs.readFile(path.join(__dirname, '../examples/support-agent.prompt.yml'), 'utf8')).replace(/\n      - name: does not refund outside the window[\s\S]*$/, '\n');
        const file = path.join(wb.ws, 'agent.prompt.yml');
        await fs.writeFile(file, agent);
        await palette(page, 'PromptGate: Reload Prompt Files');
        // Opened from the Explorer, as a user would, once its file watcher shows the new file.
        await palette(page, 'View: Show Explorer');
        await row(page, '.explorer-folders-view', 'agent.prompt.yml').waitFor({ timeout: 30_000 });
        await row(page, '.explorer-folders-view', 'agent.prompt.yml').click();
        await page.locator('.tabs-container .tab', { hasText: 'agent.prompt.yml' }).first().waitFor({ timeout: 15_000 });
        await page.locator('.monaco-editor .codelens-decoration', { hasText: 'Run 1 case' }).first().waitFor({ timeout: 30_000 });
        await page.locator('.monaco-editor .codelens-decoration', { hasText: 'Run 1 case' }).first().locator('a').first().click();
        await acceptBudgetIfAsked(page);
        // The case's own lens, further down the file: its pass rate and the steps its run took.
        await page.keyboard.press('Control+G');
        await page.keyboard.type(String(agent.split('\n').findIndex((l) => l.includes('- name: refunds an eligible order')) + 1));
        await page.keyboard.press('Enter');
        await page.locator('.monaco-editor .codelens-decoration', { hasText: '5 steps' }).first().waitFor({ timeout: 30_000 });
        await approveWithTopUp(page);
        // The order system now says the order cannot be refunded: the agent stops after the lookup.
        await fs.writeFile(file, agent.replace('result: { order_id: NW-1001, status: delivered, refundable: true, total: 89.5 }', 'result: { order_id: NW-1001, status: delivered, refundable: false, total: 89.5 }'));
        await palette(page, 'PromptGate: Reload Prompt Files');
        // The case's own ▶ Run (the editor is at the case).
        await page.locator('.monaco-editor .codelens-decoration', { hasText: 'steps' }).first().locator('a').first().click();
        await acceptBudgetIfAsked(page);
        await page.locator('.monaco-editor .codelens-decoration', { hasText: 'regressed' }).first().waitFor({ timeout: 60_000 });
        await palette(page, 'PromptGate: Show Regression Diff');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'refunds an eligible order' }).first().waitFor({ timeout: 15_000 });
        await page.keyboard.press('Enter');
        await page.locator('.monaco-diff-editor').first().waitFor({ timeout: 15_000 });
        await page.locator('.monaco-diff-editor .view-line', { hasText: '→ issue_refund' }).first().waitFor({ timeout: 15_000 });
        await page.locator('.monaco-diff-editor .view-line', { hasText: '── answer ──' }).first().waitFor({ timeout: 15_000 });
        await wb.page.screenshot({ path: path.join(ARTIFACTS, 'e2e-trajectory-diff.png') });
      },
    },
  ];
  let passed = 0;
  let failed = 0;
  try {
    for (const [i, step] of steps.entries()) {
      const shot = path.join(ARTIFACTS, `e2e-${String(i + 1).padStart(2, '0')}.png`);
      try {
        await step.run(wb.page);
        await wb.page.screenshot({ path: shot });
        process.stdout.write(`  ✔ ${step.name}  (${path.relative(process.cwd(), shot)})\n`);
        passed++;
      } catch (err) {
        await wb.page.screenshot({ path: shot }).catch(() => undefined);
        process.stdout.write(`  ✗ ${step.name}: ${(err as Error).message.split('\n')[0]}  (${path.relative(process.cwd(), shot)})\n`);
        failed++;
        break;
      }
    }
  } finally {
    await wb.close();
  }
  const skipped = steps.length - passed - failed;
  process.stdout.write(`e2e: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  return failed || skipped ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
