import { sleep } from './retry';
import { ProviderError } from './types';

export interface LimiterOptions {
  /** Requests per minute the endpoint allows (a token bucket; none: unlimited). */
  rpm?: number;
  /** Tokens per minute: each answer's tokens are debited after it arrives; requests wait while the bucket is empty. */
  tpm?: number;
  now?: () => number;
}

/** One request's slot; `sentAt` decides whether its 429 may lower the window again. */
export interface Ticket {
  sentAt: number;
}

/**
 * Adaptive concurrency for one endpoint (AIMD, as TCP does for congestion): no limit until the
 * server pushes back; a 429 cuts the window to 0.7 of it (once per window: answers to requests sent
 * before the last decrease do not count again) and pauses every request for its Retry-After; each
 * success grows the window by 1/window, so it probes back up by about one request per round trip.
 */
export class AdaptiveLimiter {
  private window = Infinity;
  private inFlight = 0;
  private lastDecrease = -Infinity;
  private pausedUntil = 0;
  private readonly waiters = new Set<() => void>();
  private readonly now: () => number;
  private readonly rpm?: { capacity: number; level: number; at: number };
  private readonly tpm?: { capacity: number; level: number; at: number };
  /** What happened, for reports and the bench. */
  readonly stats = { rateLimited: 0, decreases: 0, lowestWindow: Infinity, pausedMs: 0 };

  constructor(options: LimiterOptions = {}) {
    this.now = options.now ?? Date.now;
    const t = this.now();
    if (options.rpm) this.rpm = { capacity: options.rpm, level: options.rpm, at: t };
    if (options.tpm) this.tpm = { capacity: options.tpm, level: options.tpm, at: t };
  }

  /** The current window (Infinity until the first 429). */
  get limit(): number {
    return this.window;
  }

  async acquire(signal?: AbortSignal): Promise<Ticket> {
    for (;;) {
      if (signal?.aborted) throw new ProviderError('aborted', 'cancelled');
      const t = this.now();
      const wait = Math.max(this.pausedUntil - t, this.bucketWait(this.rpm, t, 1), this.bucketWait(this.tpm, t, 0));
      if (wait > 0) {
        this.stats.pausedMs += wait;
        await sleep(wait, signal);
        continue;
      }
      if (this.inFlight < Math.max(1, Math.floor(this.window))) {
        this.inFlight++;
        if (this.rpm) this.rpm.level -= 1;
        return { sentAt: t };
      }
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          this.waiters.delete(wake);
          resolve();
        };
        const onAbort = () => {
          this.waiters.delete(wake);
          reject(new ProviderError('aborted', 'cancelled'));
        };
        this.waiters.add(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  /** Ends a request: `ok` grows the window, `rate_limited` shrinks it and pauses for Retry-After. */
  release(ticket: Ticket, outcome: 'ok' | 'rate_limited' | 'other', info: { retryAfterMs?: number; tokens?: number } = {}): void {
    this.inFlight--;
    const t = this.now();
    if (outcome === 'rate_limited') {
      this.stats.rateLimited++;
      if (ticket.sentAt > this.lastDecrease) {
        const base = Number.isFinite(this.window) ? Math.min(this.window, this.inFlight + 1) : this.inFlight + 1;
        this.window = Math.max(1, base * BETA);
        this.lastDecrease = t;
        this.stats.decreases++;
        this.stats.lowestWindow = Math.min(this.stats.lowestWindow, this.window);
        // The 429 that lowers the window pauses everyone for its Retry-After; the others of the same
        // window only wait themselves (their retry does), or a full server would stall the run.
        if (info.retryAfterMs) this.pausedUntil = Math.max(this.pausedUntil, t + info.retryAfterMs);
      }
    } else if (outcome === 'ok' && Number.isFinite(this.window)) {
      this.window += 1 / this.window;
    }
    if (this.tpm && info.tokens) this.tpm.level -= info.tokens;
    for (const wake of [...this.waiters]) wake();
  }

  /** How long until a bucket holds `need` (refilled continuously at capacity per minute). */
  private bucketWait(b: { capacity: number; level: number; at: number } | undefined, t: number, need: number): number {
    if (!b) return 0;
    b.level = Math.min(b.capacity, b.level + ((t - b.at) * b.capacity) / 60_000);
    b.at = t;
    const missing = need - b.level + (need === 0 ? 1e-9 : 0);
    return missing > 0 ? Math.ceil((missing * 60_000) / b.capacity) : 0;
  }
}

/** The multiplicative decrease (0.5 in classic AIMD; 0.7 as in CUBIC loses less after a probe past the limit). */
const BETA = 0.7;

const limiters = new Map<string, AdaptiveLimiter>();

/**
 * The limiter of an endpoint, shared by every provider and run that calls it in this process, so a
 * window learned in one run of the editor carries over to the next.
 */
export function limiterFor(endpoint: string, options: LimiterOptions = {}): AdaptiveLimiter {
  const key = `${endpoint}|${options.rpm ?? ''}|${options.tpm ?? ''}`;
  let l = limiters.get(key);
  if (!l) {
    l = new AdaptiveLimiter(options);
    limiters.set(key, l);
  }
  return l;
}

/** One attempt inside an endpoint's adaptive window (none: unlimited): a 429 shrinks it, a success grows it. */
export async function limited<T>(limiter: AdaptiveLimiter | undefined, attempt: () => Promise<T>, signal: AbortSignal | undefined, tokens: (r: T) => number | undefined): Promise<T> {
  if (!limiter) return attempt();
  const ticket = await limiter.acquire(signal);
  try {
    const r = await attempt();
    limiter.release(ticket, 'ok', { tokens: tokens(r) });
    return r;
  } catch (err) {
    const e = err as ProviderError;
    limiter.release(ticket, e.kind === 'rate_limit' ? 'rate_limited' : 'other', { retryAfterMs: e.options?.retryAfterMs });
    throw err;
  }
}
