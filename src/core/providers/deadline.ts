import { ProviderError } from './types';

/**
 * A streamed call under PromptGate's deadlines: the whole answer within `timeoutMs`, and no silence
 * longer than `idleMs` once it has started (`alive` is called on each chunk). An SDK's own timeout
 * ends when the headers arrive; nothing in it bounds the body. The call gets a child signal of its
 * own: SDKs never remove the abort listener they add, and a long run would pile them up on ours.
 * Errors go through `classify`; a deadline that fired is a `timeout` with its reason.
 */
export async function withDeadlines<T>(
  outer: AbortSignal | undefined,
  limits: { timeoutMs: number; idleMs?: number },
  run: (signal: AbortSignal, alive: () => void) => Promise<T>,
  classify: (err: unknown, signal: AbortSignal) => ProviderError,
): Promise<T> {
  const child = new AbortController();
  const onAbort = () => child.abort();
  if (outer?.aborted) child.abort();
  outer?.addEventListener('abort', onAbort, { once: true });
  const { timeoutMs } = limits;
  const idleMs = Math.min(timeoutMs, limits.idleMs ?? 30_000);
  let timedOut: string | undefined;
  const expire = (why: string) => {
    timedOut ??= why;
    child.abort();
  };
  // Until the first chunk only the whole deadline applies: a model may think long before it speaks.
  const whole = setTimeout(() => expire(`request timed out: no complete answer within ${timeoutMs / 1000} s`), timeoutMs);
  let idle: NodeJS.Timeout | undefined;
  const alive = () => {
    clearTimeout(idle);
    idle = setTimeout(() => expire(`request timed out: the stream stalled, no data for ${idleMs / 1000} s`), idleMs);
  };
  try {
    return await run(child.signal, alive);
  } catch (err) {
    if (timedOut && !outer?.aborted) throw new ProviderError('timeout', timedOut);
    throw classify(err, child.signal);
  } finally {
    clearTimeout(whole);
    clearTimeout(idle);
    outer?.removeEventListener('abort', onAbort);
  }
}
