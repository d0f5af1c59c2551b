// Injected as `Headers` into dist/vendor/openai.js (scripts/build.mjs), and only there.
//
// Node 20's global Headers is undici's: touching it the first time loads undici with TLS, HTTP/2,
// web streams and worker_threads, and the SDK touches it to build the headers of the first call
// even though PromptGate sends them itself (src/core/providers/openai.ts). Measured 2026-12-02 on 2
// cores: a one-case live CLI run takes a median 348 ms with this Headers and 455 ms without (30
// alternating runs each), a third more for every live run, so it stays. The SDK
// uses Headers as a container (append, delete, iterate); this one keeps the Fetch standard's rules
// for that: names are case-insensitive and listed sorted, lower-cased; values lose surrounding
// whitespace; appending joins with ", " (set-cookie kept apart); a bad name or value throws a
// TypeError, as undici's does. test/unit/vendor-headers.test.ts holds it to undici's behaviour.
import { validateHeaderName, validateHeaderValue } from 'node:http';

type Init = Iterable<readonly [string, string]> | Record<string, string> | LightHeaders;

const normalize = (value: string) => String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');

function checked(name: string, value?: string): string {
  name = String(name);
  validateHeaderName(name);
  if (value !== undefined) validateHeaderValue(name, value);
  return name.toLowerCase();
}

export class LightHeaders {
  readonly #values = new Map<string, string>();
  readonly #cookies: string[] = [];

  constructor(init?: Init) {
    if (init === undefined || init === null) return;
    if (init instanceof LightHeaders) init.forEach((v, k) => this.append(k, v));
    else if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const pair of init as Iterable<readonly [string, string]>) {
        if (pair.length !== 2) throw new TypeError('Headers constructor: expected name/value pair to be length 2');
        this.append(pair[0], pair[1]);
      }
    } else for (const [k, v] of Object.entries(init)) this.append(k, v);
  }

  append(name: string, value: string): void {
    const v = normalize(value);
    const key = checked(name, v);
    if (key === 'set-cookie') this.#cookies.push(v);
    else this.#values.set(key, this.#values.has(key) ? `${this.#values.get(key)}, ${v}` : v);
  }

  set(name: string, value: string): void {
    const v = normalize(value);
    const key = checked(name, v);
    if (key === 'set-cookie') this.#cookies.splice(0, this.#cookies.length, v);
    else this.#values.set(key, v);
  }

  delete(name: string): void {
    const key = checked(name);
    if (key === 'set-cookie') this.#cookies.length = 0;
    else this.#values.delete(key);
  }

  get(name: string): string | null {
    const key = checked(name);
    if (key === 'set-cookie') return this.#cookies.length ? this.#cookies.join(', ') : null;
    return this.#values.get(key) ?? null;
  }

  has(name: string): boolean {
    const key = checked(name);
    return key === 'set-cookie' ? this.#cookies.length > 0 : this.#values.has(key);
  }

  getSetCookie(): string[] {
    return [...this.#cookies];
  }

  *entries(): IterableIterator<[string, string]> {
    const names = [...this.#values.keys()];
    if (this.#cookies.length) names.push('set-cookie');
    for (const name of names.sort()) {
      if (name === 'set-cookie') for (const c of this.#cookies) yield [name, c];
      else yield [name, this.#values.get(name)!];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): IterableIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }

  forEach(fn: (value: string, name: string, parent: LightHeaders) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'Headers';
  }
}

export { LightHeaders as Headers };
