import { randomBytes } from 'node:crypto';
import type { CallOptions, Provider, ProviderRequest, ProviderResponse } from '../providers/types';
import { CANARY_SENTINEL, protectCanary } from './detect';

/** The line adversarial cases add to the system prompt; the sentinel becomes a fresh canary per call. */
export const CANARY_LINE = `Internal reference: ${CANARY_SENTINEL}`;

/**
 * Plants the canary sentinel in a request's system prompt (a system message is added when the prompt
 * has none). The request keeps the sentinel, so cache keys and cassettes stay stable and never hold
 * the canary itself.
 */
export function plantCanary(request: ProviderRequest): ProviderRequest {
  const messages = [...request.messages];
  const i = messages.findIndex((m) => m.role === 'system' || m.role === 'developer');
  if (i >= 0) messages[i] = { ...messages[i], content: `${messages[i].content}\n\n${CANARY_LINE}` };
  else messages.unshift({ role: 'system', content: CANARY_LINE });
  return { ...request, messages };
}

export function hasCanary(request: ProviderRequest): boolean {
  return request.messages.some((m) => m.content.includes(CANARY_SENTINEL));
}

/** A fresh random canary: unguessable, and shaped like an identifier a model will repeat. */
export function newCanary(): string {
  return `pg-${randomBytes(8).toString('hex')}`;
}

/**
 * Sends each request with a new random canary in place of the sentinel and maps every form of it in
 * the answer back to the sentinel. Whatever sits outside (cache, cassettes, run records, baselines,
 * reports) only ever sees the sentinel; detectors recognise it there.
 */
export class CanaryProvider implements Provider {
  readonly id: string;
  readonly recorded?: boolean;
  readonly embed?: Provider['embed'];

  constructor(private readonly inner: Provider, private readonly make: () => string = newCanary) {
    this.id = inner.id;
    this.recorded = inner.recorded;
    if (inner.embed) this.embed = inner.embed.bind(inner);
  }

  async complete(request: ProviderRequest, options: CallOptions): Promise<ProviderResponse> {
    if (!hasCanary(request)) return this.inner.complete(request, options);
    const canary = this.make();
    const live = { ...request, messages: request.messages.map((m) => ({ ...m, content: m.content.split(CANARY_SENTINEL).join(canary) })) };
    let response: ProviderResponse;
    try {
      response = await this.inner.complete(live, options);
    } catch (err) {
      // Error messages may quote the request.
      if (err instanceof Error) err.message = protectCanary(err.message, canary);
      throw err;
    }
    return {
      ...response,
      output: protectCanary(response.output, canary),
      toolCalls: response.toolCalls.map((c) => ({ ...c, arguments: protectCanary(c.arguments, canary) })),
    };
  }
}
