/**
 * The answer cache's persistent level: the in-memory entries, with their remaining TTLs, in one
 * file beside the index (`answer-cache.jsonl` in the first folder's store), so that a new
 * `docent ask` process or a reloaded editor window starts with the answers already proven.
 * The file is the store's neighbour, not part of the store format: deleting it loses nothing
 * but cache hits. Entries are re-checked on every hit exactly as in memory (the hashes of every
 * file that fed the answer), so an entry whose sources changed is never served.
 *
 * Format: JSON Lines; a header `{"format":2,"scope":…}` then one `[key, entry]` per line,
 * oldest first. Written whole, atomically, at most once per SAVE_DELAY_MS and on dispose;
 * bounded by bytes (the newest entries that fit are kept).
 */
import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../atomicFile.js';
import { errorMessage } from '../errorMessage.js';
import type { CachedAnswer } from './caches.js';
import type { PersistentCacheOptions, PipelineLogger } from './types.js';

export const ANSWER_CACHE_FILE = 'answer-cache.jsonl';
/** 2: retrieval-only answers are rendered as paragraphs and code; a file of answers rendered the old way is not served for hours after an upgrade. */
const FORMAT = 2;
/** Answers often come in bursts (a conversation, a benchmark): one write per burst. */
const SAVE_DELAY_MS = 500;

/** An entry with its lifetime in wall-clock terms, so it survives the process. */
export interface PersistedEntry {
  value: CachedAnswer;
  /** Date.now() when it was stored. */
  start: number;
  ttl: number;
}

export class AnswerCacheFile {
  private timer: NodeJS.Timeout | undefined;
  /** The write in progress, if any; changes made meanwhile set `rewrite` instead of queueing a snapshot each. */
  private writing: Promise<void> | undefined;
  private rewrite = false;
  private warned = false;

  constructor(
    private readonly options: PersistentCacheOptions,
    private readonly snapshot: () => Array<[string, PersistedEntry]>,
    private readonly logger?: PipelineLogger,
  ) {}

  /** The live entries of the file, oldest first; nothing when it is absent, corrupt or of another scope. */
  async load(now = Date.now()): Promise<Array<[string, PersistedEntry]>> {
    let text: string;
    try {
      text = await fs.readFile(this.options.file, 'utf8');
    } catch {
      return [];
    }
    const lines = text.split('\n');
    const header = parseJson(lines[0] ?? '') as { format?: unknown; scope?: unknown } | undefined;
    if (header?.format !== FORMAT || header.scope !== this.options.scope) return [];
    const entries: Array<[string, PersistedEntry]> = [];
    let bytes = 0;
    for (const line of lines.slice(1)) {
      bytes += line.length + 1;
      if (bytes > this.options.maxBytes) break;
      const parsed = parseJson(line);
      if (!isPersisted(parsed) || parsed[1].start + parsed[1].ttl <= now) continue;
      // JSON writes a missing hash (a file no longer indexed) as null; the check compares with undefined.
      parsed[1].value.sourceHashes = parsed[1].value.sourceHashes.map(([path, hash]) => [path, hash ?? undefined]);
      entries.push(parsed);
    }
    return entries;
  }

  /** Saves the cache's state a little later (once for a burst of changes). */
  saveSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.save();
    }, SAVE_DELAY_MS);
    // A pending save never keeps a CLI process alive; dispose() flushes it.
    this.timer.unref();
  }

  /** Writes any pending change now and waits for it. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      await this.save();
    }
    await this.writing;
  }

  /**
   * One write at a time, of the state when it starts. Saves asked for during a write coalesce
   * into one more: queueing a snapshot per save grew without bound whenever writing a full cache
   * took longer than SAVE_DELAY_MS (a loaded machine), each holding every entry and its line.
   */
  private save(): Promise<void> {
    if (this.writing) {
      this.rewrite = true;
      return this.writing;
    }
    this.writing = (async () => {
      do {
        this.rewrite = false;
        await this.write(this.snapshot());
      } while (this.rewrite);
      this.writing = undefined;
    })();
    return this.writing;
  }

  private async write(entries: Array<[string, PersistedEntry]>): Promise<void> {
    const header = JSON.stringify({ format: FORMAT, scope: this.options.scope });
    const kept: string[] = [];
    let bytes = 0;
    for (let i = entries.length - 1; i >= 0; i--) {
      const line = JSON.stringify(entries[i]);
      bytes += line.length + 1;
      if (bytes > this.options.maxBytes) break;
      kept.push(line);
    }
    try {
      await writeFileAtomic(this.options.file, `${[header, ...kept.reverse()].join('\n')}\n`);
      this.warned = false;
    } catch (error) {
      // A cache that cannot be written (read-only store, store folder deleted) only costs hits.
      if (!this.warned) this.logger?.warn(`docent: could not save the answer cache to ${this.options.file}: ${errorMessage(error)}`);
      this.warned = true;
    }
  }
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

function isPersisted(value: unknown): value is [string, PersistedEntry] {
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'string') return false;
  const entry = value[1] as Partial<PersistedEntry> | null;
  if (!entry || typeof entry.start !== 'number' || typeof entry.ttl !== 'number') return false;
  const answer = entry.value as Partial<CachedAnswer> | undefined;
  return (
    !!answer &&
    typeof answer.answer === 'string' &&
    typeof answer.query === 'string' &&
    typeof answer.generation === 'number' &&
    typeof answer.mode === 'string' &&
    Array.isArray(answer.citations) &&
    Array.isArray(answer.retrievedIds) &&
    Array.isArray(answer.sourceHashes)
  );
}
