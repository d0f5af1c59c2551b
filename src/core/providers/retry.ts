import { ProviderError } from './types';

export interface RetryPolicy {
  maxRetries: number;
  /** 429s have their own bound: under adaptive concurrency they are the normal way to learn the limit. */
  maxRateLimitRetries?: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No retry starts after this long from the first attempt, whatever the counts and Retry-After say. */
  totalMs?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 4, maxRateLimitRetries: 10, baseDelayMs: 500, maxDelayMs: 30_000, totalMs: 300_000 };

/**
 * Delay before retry number `attempt` (0-based): full-jitter exponential backoff,
 * but never shorter than the server's Retry-After.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, retryAfterMs: number | undefined, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = Math.round(ceiling * (0.5 + random() * 0.5));
  return retryAfterMs !== undefined ? Math.min(Math.max(retryAfterMs, jittered), Math.max(policy.maxDelayMs, retryAfterMs)) : jittered;
}

/** Parses `retry-after-ms`, or `retry-after` as seconds or an HTTP date. */
export function parseRetryAfter(headers: { get(name: string): string | null } | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after');
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.max(0, Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ProviderError('aborted', 'cancelled'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ProviderError('aborted', 'cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `attempt` until it succeeds, fails with a non-retryable error, or retries run out. */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  options: { policy: RetryPolicy; signal?: AbortSignal; random?: () => number; now?: () => number; onRetry?: (err: ProviderError, delayMs: number) => void },
): Promise<T> {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const deadline = now() + (options.policy.totalMs ?? Infinity);
  let other = 0;
  let limited = 0;
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      const e = err instanceof ProviderError ? err : new ProviderError('network', (err as Error).message);
      const rateLimited = e.kind === 'rate_limit';
      const spent = rateLimited ? limited >= (options.policy.maxRateLimitRetries ?? options.policy.maxRetries) : other >= options.policy.maxRetries;
      // A 429 that says when to come back is obeyed closely (with a little jitter); others back off.
      const delay =
        rateLimited && e.options.retryAfterMs !== undefined
          ? Math.round(e.options.retryAfterMs * (1 + random() * 0.2)) + Math.round(random() * 20)
          : backoffDelay(rateLimited ? limited : other, options.policy, e.options.retryAfterMs, random);
      const late = now() + delay > deadline;
      if (!e.retryable || spent || late || options.signal?.aborted) {
        const why = late && !spent && e.retryable ? `; retrying would pass the ${Math.round((options.policy.totalMs ?? 0) / 1000)} s limit for one call` : '';
        throw new ProviderError(options.signal?.aborted ? 'aborted' : e.kind, `${e.message}${i > 0 ? ` (after ${i + 1} attempts${why})` : why ? ` (${why.slice(2)})` : ''}`, { ...e.options, attempts: i + 1 });
      }
      if (rateLimited) limited++;
      else other++;
      options.onRetry?.(e, delay);
      await sleep(delay, options.signal);
    }
  }
}
