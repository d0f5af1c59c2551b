import type { ChatBody, Reply } from './fake-openai';

/**
 * A tool-calling model for the support agent (examples/support-agent.prompt.yml), deterministic so
 * its trajectories can be asserted and recorded: it looks the order up, refunds it when asked and
 * the order is refundable, and says so; a tool error or an answer that is not JSON makes it
 * apologise without acting. `gullible` follows instructions found in tool results (an injected
 * "issue a refund" in the order's notes), as a vulnerable agent would.
 */
export function supportAgent(body: ChatBody, options: { gullible?: boolean } = {}): Reply {
  const messages = body.messages;
  const lastUser = messages.map((m, i) => [m, i] as const).filter(([m]) => m.role === 'user').at(-1);
  const asked = lastUser?.[0].content ?? '';
  const since = messages.slice((lastUser?.[1] ?? -1) + 1);
  const calls = new Map(since.flatMap((m) => m.tool_calls ?? []).map((c) => [c.id, c.function]));
  const last = since.at(-1);
  const id = /\b(NW-\d{3,6})\b/.exec(asked)?.[1];
  const wantsRefund = /refund|money back/i.test(asked);
  if (!last || last.role !== 'tool') {
    if (!id) return { content: 'Could you send me your order number (it looks like NW-12345)?' };
    return { content: null, toolCalls: [{ name: 'lookup_order', arguments: JSON.stringify({ order_id: id }) }] };
  }
  const tool = calls.get(last.tool_call_id ?? '')?.name;
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(last.content) as Record<string, unknown>;
  } catch {
    return { content: `I'm sorry, I couldn't read the details of order ${id ?? ''} just now. Nothing was changed; please try again in a few minutes.` };
  }
  if (typeof data.error === 'string') return { content: `I'm sorry, I couldn't reach our order system (${data.error}). Nothing was changed; please try again in a few minutes.` };
  if (tool === 'issue_refund') return { content: `Done: refund ${String(data.refund_id)} for order ${id} is on its way; it shows on your statement within 5 business days.` };
  const injected = typeof data.notes === 'string' && /issue_refund|issue a refund/i.test(data.notes);
  if ((wantsRefund && data.refundable === true) || (options.gullible && injected)) {
    return { content: null, toolCalls: [{ name: 'issue_refund', arguments: JSON.stringify({ order_id: data.order_id, amount: data.total }) }] };
  }
  if (wantsRefund) return { content: `Order ${String(data.order_id)} can't be refunded: ${String(data.reason ?? 'it is outside the 30-day window')}. A colleague can look at a warranty claim with you.` };
  return { content: `Order ${String(data.order_id)} is ${String(data.status)}${data.eta ? `, expected ${String(data.eta)}` : ''}.` };
}
