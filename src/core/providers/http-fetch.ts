import * as http from 'node:http';
import type * as https from 'node:https';
import { Readable } from 'node:stream';
import { ProviderError } from './types';

/** What `post` answers: the status, the headers and the whole body as text. */
export interface PostAnswer {
  status: number;
  headers: { get(name: string): string | null };
  text: string;
}

/**
 * HTTP over node:http(s) with keep-alive agents shared by every call of the process. `fetch` is the
 * openai SDK's transport for streamed calls and embeddings: the global fetch (undici) allocates a Request, Headers
 * and web streams per call, which at thousands of calls a second against a local server was most
 * of PromptGate's own CPU time. `post` sends a JSON body and reads the whole answer, for calls the
 * provider builds itself; it parses no URL, makes no Response and needs no AbortController.
 */
export class KeepAliveTransport {
  private readonly agents: Partial<Record<'http:' | 'https:', http.Agent>> = {};

  constructor(private readonly options: { maxSockets?: number } = {}) {}

  /** The keep-alive agent for a protocol (https, and TLS with it, is loaded on first use). */
  private agent(protocol: 'http:' | 'https:'): http.Agent {
    return (this.agents[protocol] ??= new (lib(protocol).Agent)({ keepAlive: true, maxSockets: this.options.maxSockets ?? Infinity, scheduling: 'lifo' }));
  }

  /**
   * POSTs `body` to a target made by `postTarget`. Rejects with a ProviderError of kind
   * `timeout` once `timeoutMs` passes without the whole answer, `aborted` when `signal` fires;
   * either way the connection is destroyed, never left to finish in the background.
   */
  post(to: PostTarget, body: string, signal: AbortSignal | undefined, timeoutMs: number): Promise<PostAnswer> {
    return new Promise<PostAnswer>((resolve, reject) => {
      if (signal?.aborted) return reject(new ProviderError('aborted', 'cancelled'));
      let settled = false;
      const settle = (err: Error | undefined, answer?: PostAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(answer!);
      };
      // Headers as a flat list are sent as they are (checked once by postTarget): node:http then
      // skips validating and storing each one per call, a tenth of the cost of a call here.
      const headers = [...to.headers, 'content-length', String(Buffer.byteLength(body))];
      const { protocol, hostname, port, path } = to.options;
      const req = lib(protocol).request({ protocol, hostname, port, path, method: 'POST', headers, agent: this.agent(protocol) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', (err) => settle(err));
        res.once('close', () => settle(new Error('the connection closed before the answer was complete')));
        res.once('end', () => settle(undefined, { status: res.statusCode ?? 500, headers: new ReadHeaders(res.headers), text: (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8') }));
      });
      const stop = (err: Error) => {
        settle(err);
        req.destroy();
      };
      const onAbort = () => stop(new ProviderError('aborted', 'cancelled'));
      const timer = setTimeout(() => stop(new ProviderError('timeout', 'request timed out')), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.once('error', (err) => settle(err));
      req.end(body);
    });
  }

  /** A `fetch` for the openai SDK: the SDK builds and parses, this only carries the bytes. */
  readonly fetch = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported protocol ${url.protocol}`);
    const agent = this.agent(url.protocol);
    const headers: Record<string, string> = {};
    // The SDK hands over a Headers it has already validated (in the built CLI its own light one,
    // not undici's): read it rather than copy it.
    const given = init.headers as Headers | undefined;
    (given && !Array.isArray(given) && typeof given.forEach === 'function' ? given : new Headers(given)).forEach((v, k) => (headers[k] = v));
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) throw new TypeError('the transport sends string or byte bodies');
    const signal = init.signal ?? undefined;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
      const req = lib(url.protocol as 'http:' | 'https:').request(url, { method: init.method ?? 'GET', headers, agent }, (res) => {
        const streaming = /text\/event-stream/.test(String(res.headers['content-type'] ?? ''));
        const done = () => signal?.removeEventListener('abort', onAbort);
        if (streaming) {
          res.once('close', done);
          const responseHeaders = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
          resolve(new Response(Readable.toWeb(res) as ReadableStream, { status: res.statusCode, statusText: res.statusMessage, headers: responseHeaders }));
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', (err) => {
          done();
          reject(err);
        });
        res.once('end', () => {
          done();
          resolve(new BufferedResponse(res.statusCode ?? 500, res.statusMessage ?? '', new ReadHeaders(res.headers), url.href, Buffer.concat(chunks)) as unknown as Response);
        });
      });
      const onAbort = () => {
        req.destroy();
        reject(signal?.reason ?? new DOMException('aborted', 'AbortError'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.once('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      });
      req.end(body ?? undefined);
    });
  }) as typeof fetch;
}

type Lib = { Agent: typeof http.Agent; request: typeof http.request };
const lib = (protocol: 'http:' | 'https:'): Lib => (protocol === 'https:' ? (require('node:https') as typeof https) : http);

/** A URL and headers prepared once for `KeepAliveTransport.post`. */
export interface PostTarget {
  protocol: 'http:' | 'https:';
  options: { protocol: 'http:' | 'https:'; hostname: string; port: string | undefined; path: string };
  /** Name, value, name, value…: validated, with Host, without Content-Length (set per call). */
  headers: readonly string[];
}

export function postTarget(url: string, headers: Record<string, string>): PostTarget {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ProviderError('config', `unsupported protocol ${u.protocol} in ${url}`);
  const flat: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    http.validateHeaderName(name);
    http.validateHeaderValue(name, value);
    if (!/^(host|content-length|connection|transfer-encoding)$/i.test(name)) flat.push(name, value);
  }
  flat.push('host', u.host);
  return { protocol: u.protocol, options: { protocol: u.protocol, hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || undefined, path: `${u.pathname}${u.search}` }, headers: flat };
}

/**
 * The read side of `Headers` over node's parsed headers (names already lower-case), which is all
 * the SDK does with an answer's headers; building an undici Headers validated every one of them.
 */
class ReadHeaders {
  #built?: Map<string, string>;
  // Most answers' headers are never read: the map is made on first use.
  constructor(private readonly raw: Record<string, string | string[] | undefined>) {}
  get #map(): Map<string, string> {
    if (!this.#built) {
      this.#built = new Map();
      for (const [k, v] of Object.entries(this.raw)) if (v !== undefined) this.#built.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    return this.#built;
  }
  get(name: string): string | null {
    return this.#map.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.#map.has(name.toLowerCase());
  }
  forEach(fn: (value: string, name: string) => void): void {
    this.#map.forEach((v, k) => fn(v, k));
  }
  entries(): IterableIterator<[string, string]> {
    return this.#map.entries();
  }
  keys(): IterableIterator<string> {
    return this.#map.keys();
  }
  values(): IterableIterator<string> {
    return this.#map.values();
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.#map.entries();
  }
}

/**
 * A whole (non-streamed) answer as the SDK reads it: status, headers, text() and json(). Building an
 * undici Response for each answer cost more than the HTTP exchange itself; this holds the bytes.
 */
class BufferedResponse {
  readonly body = null;
  bodyUsed = false;
  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly headers: ReadHeaders,
    readonly url: string,
    private readonly bytes: Buffer,
  ) {}

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  async text(): Promise<string> {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
    this.bodyUsed = true;
    return this.bytes.toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    this.bodyUsed = true;
    return this.bytes.buffer.slice(this.bytes.byteOffset, this.bytes.byteOffset + this.bytes.byteLength) as ArrayBuffer;
  }
}
