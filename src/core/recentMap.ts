/**
 * A map of at most `limit` entries that forgets the least recently used one first: a Map keeps
 * insertion order, so a read moves its entry to the end and the first entry is the oldest.
 *
 * For caches on a query's path (passage signatures, page centroids): lru-cache, which the answer
 * pipeline's caches use for their TTLs, reads `performance` when it loads, and that global loads
 * perf_hooks and a dozen of Node's modules, a few milliseconds of every cold `docent query`.
 */
export class RecentMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
  }

  clear(): void {
    this.entries.clear();
  }
}
