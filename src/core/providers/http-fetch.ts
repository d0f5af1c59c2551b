import * as http from 'node:http';
import * as https from 'node:https';
import { Readable } from 'node:stream';

/**
 * A `fetch` for the openai SDK over node:http(s) with keep-alive agents. The global fetch (undici)
 * allocates a Request, Headers and web streams per call; at thousands of calls a second against a
 * local server that was most of PromptGate's own CPU time. The SDK still builds, retries nothing
 * (retries are ours) and parses; only the transport is this.
 */
export function keepAliveFetch(options: { maxSockets?: number } = {}): typeof fetch {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? Infinity, scheduling: 'lifo' }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? Infinity, scheduling: 'lifo' }),
  };
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const lib = url.protocol === 'https:' ? https : http;
    const agent = agents[url.protocol as 'http:' | 'https:'];
    if (!agent) throw new TypeError(`unsupported protocol ${url.protocol}`);
    // A plain record (the provider's prepared headers) is passed on as it is: node:http copies
    // and checks it. The SDK's streamed calls hand over a Headers it has already validated.
    const given = init.headers;
    let headers: Record<string, string>;
    if (given !== null && typeof given === 'object' && Object.getPrototypeOf(given) === Object.prototype) headers = given as Record<string, string>;
    else {
      headers = {};
      (given instanceof Headers ? given : new Headers(given)).forEach((v, k) => (headers[k] = v));
    }
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) throw new TypeError('keepAliveFetch sends string or byte bodies');
    const signal = init.signal ?? undefined;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
      const req = lib.request(url, { method: init.method ?? 'GET', headers, agent }, (res) => {
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
