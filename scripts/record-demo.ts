// Re-records examples/cassettes through PromptGate's real `--record` path (the openai SDK over HTTP).
// No model API is reachable where the demo was built, so the answering side is a scripted stand-in
// on 127.0.0.1 that replies with the hand-written answers below; with OPENAI_API_KEY set,
// `promptgate test examples --record` records real model answers in the same way.
// Run: npx tsx scripts/record-demo.ts
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { main } from '../src/cli/main';
import { startFakeOpenAI, type ChatBody, type Reply } from '../test/support/fake-openai';
import { supportAgent } from '../test/support/agent-model';

const ROOT = path.resolve(__dirname, '..');
const EXAMPLES = path.join(ROOT, 'examples');

const SUPPORT: [RegExp, string][] = [
  [/tent two weeks ago/, 'Hi Maria,\n\nThanks for your message, and sorry for the wait. Your tent has shipped and is on its way to you; the carrier shows it in transit, so it should reach you within the next two days, in time for your trip. If it has not arrived by Friday, reply to this e-mail and a colleague will follow up within one business day.\n\nNorthwind Support'],
  [/sleeping bag/, 'Hi Tom,\n\nSorry the sleeping bag is too small. Since it was delivered last week, you are well within our 30 days return window: send it back unused in its original packing and we will refund you in full once it arrives. You will find the return label in your account under Orders.\n\nNorthwind Support'],
  [/hiking boots in March/, "Hi Priya,\n\nI'm sorry to hear your boots are falling apart. Refunds are possible within 30 days of delivery, and that window has passed for this order, but a defect like this may be covered by the manufacturer's warranty. A colleague will follow up within one business day to look at the warranty options with you.\n\nNorthwind Support"],
  [/THIRD TIME/, "Hi Sam,\n\nI'm really sorry you had to write three times, and sorry for the trouble. I can see why you are upset about being charged twice for the same jacket. A colleague from our payments team will follow up within one business day to confirm the duplicate charge and refund it.\n\nNorthwind Support"],
  [/Antarctica/, "Hi Lena,\n\nThanks for getting in touch, and good luck with the expedition. Shipping to research stations in Antarctica is something I can't confirm from here, so a colleague will follow up within one business day with the options and delivery times for your crampons.\n\nNorthwind Support"],
];

const EXTRACTION: [RegExp, unknown][] = [
  [/cancel order NW-204518/, { order_id: 'NW-204518', action: 'cancel', items: [], urgent: false }],
  [/NW-119870/, { order_id: 'NW-119870', action: 'change_items', items: [{ sku: 'TENT-2P', quantity: 2 }, { sku: 'BOOT-42', quantity: 0 }], urgent: false }],
  [/moving tomorrow/, { order_id: null, action: 'change_address', items: [], urgent: true }],
  [/blue rain jacket/, { order_id: null, action: 'other', items: [], urgent: false }],
];

const SUMMARIES: [RegExp, string][] = [
  [/stove/, 'Summary - A compact, fast-boiling stove with a reliable igniter, though a little loud.'],
  [/zip on this backpack/, "Summary - The backpack's zip broke on the second day and customer service was slow to respond."],
];

/** The summaries as another model writes them: the demo's model swap (`--model gpt-4.1-mini`), shown side by side in the report. */
const SWAP_MODEL = 'gpt-4.1-mini';
const SWAPPED_SUMMARIES: [RegExp, string][] = [
  [/stove/, 'Summary - Light, quick to boil and dependable in the rain, if noisy.'],
  [/zip on this backpack/, 'Summary - The zip failed within two days, and support was slow.'],
];

async function intentLabels(): Promise<Map<string, string>> {
  const csv = await fs.readFile(path.join(EXAMPLES, 'banking77/data/banking77-test-sample231.csv'), 'utf8');
  const labels = new Map<string, string>();
  for (const line of csv.trim().split(/\r?\n/).slice(1)) {
    const m = /^([^,]+),("(?:[^"]|"")*"|[^,]*),([A-Za-z_?]+)$/.exec(line);
    if (m) labels.set((m[2].startsWith('"') ? m[2].slice(1, -1).replace(/""/g, '"') : m[2]).trim(), m[3]);
  }
  return labels;
}

/**
 * Attacks on the support reply (examples/support-reply-attacks.suite.yml): the stand-in deflects them
 * as a careful model would, except that it decodes base64 and follows what it says. That is the demo's
 * known weakness, approved as failing, so the attack report shows a non-zero rate.
 */
function answerAttack(user: string): string {
  for (const m of user.matchAll(/[A-Za-z0-9+/]{12,}={0,2}/g)) {
    if (/haha pwned/i.test(Buffer.from(m[0], 'base64').toString('utf8'))) return 'Haha pwned!';
  }
  return "Hi Alex,\n\nThanks for your message. I can only help with questions about your Northwind Outfitters orders, so I can't act on this request. If you have a question about an order, reply with its number and a colleague will follow up within one business day.\n\nNorthwind Support";
}

function pick<T>(table: [RegExp, T][], text: string): T {
  const hit = table.find(([re]) => re.test(text));
  if (!hit) throw new Error(`no scripted answer for: ${text.slice(0, 80)}`);
  return hit[1];
}

async function run() {
  const labels = await intentLabels();
  const respond = (body: ChatBody): Reply => {
    const system = body.messages.find((m) => m.role === 'system')?.content ?? '';
    const user = body.messages.at(-1)?.content ?? '';
    if (system.includes("bank's support chat")) {
      const label = labels.get(user.trim());
      if (!label) throw new Error(`no label for: ${user}`);
      return { content: label };
    }
    // The support agent (tools declared): the scripted tool-calling stand-in of the tests.
    if (body.tools) return supportAgent(body);
    if (system.includes('Northwind Outfitters')) return { content: SUPPORT.some(([re]) => re.test(user)) ? pick(SUPPORT, user) : answerAttack(user) };
    if (system.includes('Extract the order change')) return { content: JSON.stringify(pick(EXTRACTION, user)) };
    if (system.includes('summarize product reviews')) return { content: pick(body.model === SWAP_MODEL ? SWAPPED_SUMMARIES : SUMMARIES, user) };
    throw new Error(`unknown prompt: ${system.slice(0, 60)}`);
  };
  const server = await startFakeOpenAI({ respond, latencyMs: 350, keepRequests: false });
  await fs.rm(path.join(EXAMPLES, 'cassettes'), { recursive: true, force: true });
  const io = {
    out: (s: string) => process.stdout.write(s),
    err: (s: string) => process.stderr.write(s),
    isTTY: false,
    cwd: ROOT,
    env: { OPENAI_BASE_URL: server.baseURL },
    now: () => Date.now(),
  };
  try {
    process.exitCode = await main(['test', EXAMPLES, '--record', '--concurrency', '16'], io);
    // The review summarizer once more with another model: `promptgate test examples/summarize.prompt.yml --replay --model gpt-4.1-mini`.
    if (!process.exitCode) process.exitCode = await main(['test', path.join(EXAMPLES, 'summarize.prompt.yml'), '--record', '--model', SWAP_MODEL], io);
  } finally {
    await server.close();
  }
}

void run();
