/** In-process cache levels on lru-cache: bounded by entries AND bytes, TTL with random jitter. */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Answer, CacheLevelOptions, CacheLevelStats, Citation } from './types.js';

export class BoundedCache<V extends object> {
  private readonly lru: LRUCache<string, V>;
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly options: CacheLevelOptions & { ttlJitter: number },
    sizeOf: (value: V, key: string) => number,
  ) {
    this.lru = new LRUCache<string, V>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      // lru-cache rejects sizes below 1; an entry always costs its key and bookkeeping anyway.
      sizeCalculation: (value, key) => Math.max(1, Math.ceil(sizeOf(value, key))),
      ttl: options.ttlMs,
    });
  }

  /** Counts a hit or miss. */
  get(key: string): V | undefined {
    const value = this.lru.get(key);
    if (value === undefined) this.misses++;
    else this.hits++;
    return value;
  }

  /** Looks without counting a hit or refreshing recency. */
  peek(key: string): V | undefined {
    return this.lru.peek(key);
  }

  /** A hit turned out unusable after all (e.g. its sources changed): count it as a miss. */
  demoteHit(key: string): void {
    this.lru.delete(key);
    this.hits--;
    this.misses++;
  }

  set(key: string, value: V, ttlMs = this.options.ttlMs): void {
    this.lru.set(key, value, { ttl: this.jitteredTtl(ttlMs) });
  }

  /**
   * Shortening each TTL by a random fraction spreads expiries, so a burst of answers cached
   * together does not expire together and stampede the backend.
   */
  jitteredTtl(ttlMs: number): number {
    return Math.max(1, Math.round(ttlMs * (1 - Math.random() * this.options.ttlJitter)));
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  /** Every live entry, oldest first, with when it was stored (Date.now() time) and its TTL. */
  entries(): Array<[string, { value: V; start: number; ttl: number }]> {
    const now = Date.now();
    return this.lru
      .dump()
      .filter(([, entry]) => entry.start !== undefined && entry.ttl !== undefined && entry.start + entry.ttl > now)
      .map(([key, entry]) => [key, { value: entry.value, start: entry.start!, ttl: entry.ttl! }]);
  }

  /** Adds entries saved by entries() (another process's, say), oldest first, keeping their remaining lifetime. */
  restore(entries: Array<[string, { value: V; start: number; ttl: number }]>): void {
    const now = Date.now();
    for (const [key, { value, start, ttl }] of entries) {
      const remaining = start + ttl - now;
      if (remaining > 0) this.lru.set(key, value, { ttl: remaining });
    }
  }

  clear(): void {
    this.lru.clear();
  }

  stats(): CacheLevelStats {
    const lookups = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      hitRatio: lookups === 0 ? 0 : this.hits / lookups,
      entries: this.lru.size,
      bytes: this.lru.calculatedSize,
    };
  }
}

/** A stored answer plus what is needed to prove it is still right before serving it. */
export interface CachedAnswer {
  answer: string;
  citations: Citation[];
  mode: Answer['mode'];
  /** The standalone query that was retrieved for, to re-run retrieval after an index change. */
  query: string;
  /** Index generation the entry was last proven against. */
  generation: number;
  /** Chunk ids retrieval returned, best first. */
  retrievedIds: number[];
  /** `retriever.fileHash()` of every file that fed the prompt, taken at retrieval time. */
  sourceHashes: Array<[path: string, hash: string | undefined]>;
}

export interface NegativeAnswer {
  /** "Nothing found" holds only for the index it was found in; any index change may add a match. */
  generation: number;
}

const ENTRY_OVERHEAD_BYTES = 200;

export function cachedAnswerBytes(entry: CachedAnswer, key: string): number {
  let chars = key.length + entry.answer.length + entry.query.length;
  for (const citation of entry.citations) chars += citation.text.length + citation.path.length + (citation.heading?.length ?? 0) + 40;
  for (const [path, hash] of entry.sourceHashes) chars += path.length + (hash?.length ?? 0);
  return chars * 2 + entry.retrievedIds.length * 8 + ENTRY_OVERHEAD_BYTES;
}

export function embeddingBytes(vector: Float32Array, key: string): number {
  return vector.byteLength + key.length * 2 + ENTRY_OVERHEAD_BYTES;
}

/** Fixed-length key from the parts that change an answer. */
export function digestKey(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}
