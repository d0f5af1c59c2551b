import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { hashOf } from './canonical';
import { writeFileAtomic } from './fsutil';
import type { ProviderRequest, ProviderResponse } from './providers/types';

/** The canonical hash of what is asked of a model; the key of cache entries and cassettes alike. */
export function requestKey(request: ProviderRequest, sample: number): string {
  return hashOf({ request, sample });
}

export interface StoredResponse {
  key: string;
  /** Which provider answered (no secrets); a cache hit requires the same provider. */
  provider: string;
  sample: number;
  request: ProviderRequest;
  response: ProviderResponse;
  latencyMs: number;
}

export interface StoredVectors {
  key: string;
  provider: string;
  vectors: number[][];
}

/**
 * Content-addressed responses on disk, one JSON file per request (`ab/abcdef….json`),
 * written atomically. Used for the response cache and for replay cassettes.
 */
export class ResponseStore {
  constructor(readonly dir: string) {}

  fileOf(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  /** The entry under `key`; a missing, unreadable or corrupt entry is a miss, never an error. */
  async get(key: string): Promise<StoredResponse | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.fileOf(key), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const entry = JSON.parse(text) as StoredResponse;
      if (entry.key !== key || !entry.response || typeof entry.response.output !== 'string' || !Array.isArray(entry.response.toolCalls)) return undefined;
      return entry;
    } catch {
      return undefined;
    }
  }

  async put(entry: StoredResponse): Promise<void> {
    await writeFileAtomic(this.fileOf(entry.key), `${JSON.stringify(entry, null, 2)}\n`);
  }

  /** Embedding vectors under `key`; a missing or corrupt entry is a miss. */
  async getVectors(key: string): Promise<StoredVectors | undefined> {
    try {
      const entry = JSON.parse(await fs.readFile(this.fileOf(key), 'utf8')) as StoredVectors;
      return entry.key === key && Array.isArray(entry.vectors) && entry.vectors.every((v) => Array.isArray(v)) ? entry : undefined;
    } catch {
      return undefined;
    }
  }

  async putVectors(entry: StoredVectors): Promise<void> {
    await writeFileAtomic(this.fileOf(entry.key), `${JSON.stringify(entry)}\n`);
  }
}
