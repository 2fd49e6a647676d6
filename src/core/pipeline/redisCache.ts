/**
 * Optional shared second cache level on Redis (e.g. one per team), same keys and TTLs as the
 * local answer cache. Redis trouble never reaches the user: every operation has a short
 * deadline, failures count as misses, and an outage is logged once until Redis is back.
 */
import { createClient } from 'redis';
import type { CachedAnswer } from './caches.js';
import type { CacheLevelStats, PipelineLogger } from './types.js';

const KEY_PREFIX = 'docent:answer:v1:';
/** A shared cache slower than this is not worth waiting for. */
const OPERATION_TIMEOUT_MS = 150;
const MAX_RECONNECT_DELAY_MS = 5_000;

export class RedisSecondLevel {
  private readonly client: ReturnType<typeof createClient>;
  private hits = 0;
  private misses = 0;
  private outageLogged = false;

  constructor(
    url: string,
    private readonly logger?: PipelineLogger,
  ) {
    this.client = createClient({
      url,
      // Fail commands at once while disconnected instead of queueing them behind a dead socket.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 1_000,
        reconnectStrategy: (retries) => Math.min(MAX_RECONNECT_DELAY_MS, 100 * 2 ** retries),
      },
    });
    this.client.on('error', (error: unknown) => this.reportOutage(error));
    this.client.on('ready', () => {
      if (this.outageLogged) this.logger?.info('docent: Redis cache reachable again');
      this.outageLogged = false;
    });
    this.client.connect().catch((error: unknown) => this.reportOutage(error));
  }

  get connected(): boolean {
    return this.client.isReady;
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    const raw = await this.run(() => this.client.get(KEY_PREFIX + key));
    if (typeof raw !== 'string') {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return JSON.parse(raw) as CachedAnswer;
  }

  /** Not awaited by the pipeline: storing is best effort. */
  async set(key: string, entry: CachedAnswer, ttlMs: number): Promise<void> {
    await this.run(() => this.client.set(KEY_PREFIX + key, JSON.stringify(entry), { expiration: { type: 'PX', value: ttlMs } }));
  }

  async delete(key: string): Promise<void> {
    await this.run(() => this.client.del(KEY_PREFIX + key));
  }

  /** A shared hit that turned out unusable (its sources differ here) counts as a miss. */
  demoteHit(): void {
    this.hits--;
    this.misses++;
  }

  stats(): CacheLevelStats {
    const lookups = this.hits + this.misses;
    return { hits: this.hits, misses: this.misses, hitRatio: lookups === 0 ? 0 : this.hits / lookups, entries: 0, bytes: 0 };
  }

  async close(): Promise<void> {
    if (this.client.isReady) await this.client.close();
    else if (this.client.isOpen) this.client.destroy(); // still reconnecting: stop trying
  }

  /** Runs a command within the deadline; any failure is undefined (a miss). */
  private async run<T>(command: () => Promise<T>): Promise<T | undefined> {
    if (!this.client.isReady) return undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        command(),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), OPERATION_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      this.reportOutage(error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private reportOutage(error: unknown): void {
    if (this.outageLogged) return;
    this.outageLogged = true;
    this.logger?.warn(`docent: Redis cache unavailable (${error instanceof Error ? error.message || error.name : String(error)}); using the local cache only`);
  }
}
