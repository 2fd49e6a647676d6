/**
 * A small real Retriever over fixed chunks, scored by keyword overlap: the boundary fixture the
 * pipeline tests and benchmark run against while the hybrid index is built elsewhere.
 */
import { createHash } from 'node:crypto';
import type { Chunk, RetrievalHit, Retriever } from '../../src/core/types.js';

export type ChunkSpec = Omit<Chunk, 'id'>;

export interface SearchRecord {
  query: string;
  k: number;
  queryVector?: Float32Array;
}

const STOPWORDS = new Set(['the', 'and', 'for', 'how', 'what', 'does', 'are', 'can', 'with', 'you', 'our', 'this', 'that', 'from', 'into', 'about', 'when', 'where', 'which', 'why', 'who', 'its', 'use']);

export function keywords(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []).filter((word) => word.length > 2 && !STOPWORDS.has(word));
}

export class MemoryRetriever implements Retriever {
  readonly embedderId: string;
  /** Artificial search latency, honouring the abort signal (for retrieval-timeout tests). */
  delayMs: number;
  readonly searches: SearchRecord[] = [];
  private chunks: Chunk[] = [];
  private nextId = 1;
  private currentGeneration = 1;
  private readonly hashes = new Map<string, string>();

  constructor(chunks: ChunkSpec[], options: { embedderId?: string; delayMs?: number } = {}) {
    this.embedderId = options.embedderId ?? 'hashing-stand-in-256';
    this.delayMs = options.delayMs ?? 0;
    for (const spec of chunks) this.chunks.push({ ...spec, id: this.nextId++ });
    for (const path of new Set(chunks.map((chunk) => chunk.path))) this.rehash(path);
  }

  get generation(): number {
    return this.currentGeneration;
  }

  async search(query: string, options: { k: number; queryVector?: Float32Array; signal?: AbortSignal }): Promise<RetrievalHit[]> {
    options.signal?.throwIfAborted();
    const record: SearchRecord = { query, k: options.k };
    if (options.queryVector) record.queryVector = options.queryVector;
    this.searches.push(record);
    if (this.delayMs > 0) await delay(this.delayMs, options.signal);
    const terms = new Set(keywords(query));
    const hits: RetrievalHit[] = [];
    for (const chunk of this.chunks) {
      const words = new Set(keywords(`${chunk.title} ${chunk.headingPath.join(' ')} ${chunk.text}`));
      let score = 0;
      for (const term of terms) if (words.has(term)) score++;
      if (score > 0) hits.push({ chunk, score });
    }
    hits.sort((a, b) => b.score - a.score || a.chunk.id - b.chunk.id);
    return hits.slice(0, options.k);
  }

  fileHash(path: string): string | undefined {
    return this.hashes.get(path);
  }

  /** Current text of a chunk by path and start line (what an up-to-date citation must show). */
  currentText(path: string, startLine: number): string | undefined {
    return this.chunks.find((chunk) => chunk.path === path && chunk.startLine === startLine)?.text;
  }

  /** Rewrites a file's chunks like a re-index would: changed chunks get new ids, the hash and generation move. */
  editFile(path: string, edit: (text: string) => string): void {
    this.chunks = this.chunks.map((chunk) => {
      if (chunk.path !== path) return chunk;
      const text = edit(chunk.text);
      return text === chunk.text ? chunk : { ...chunk, text, id: this.nextId++ };
    });
    this.rehash(path);
    this.currentGeneration++;
  }

  addFile(chunks: ChunkSpec[]): void {
    for (const spec of chunks) this.chunks.push({ ...spec, id: this.nextId++ });
    for (const path of new Set(chunks.map((chunk) => chunk.path))) this.rehash(path);
    this.currentGeneration++;
  }

  private rehash(path: string): void {
    const hash = createHash('sha256');
    for (const chunk of this.chunks) if (chunk.path === path) hash.update(chunk.text).update('\0');
    this.hashes.set(path, hash.digest('hex'));
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A handful of fixed documentation chunks with distinct vocabulary per topic. */
export function sampleChunks(): ChunkSpec[] {
  const chunk = (path: string, startLine: number, heading: string, text: string): ChunkSpec => ({
    path,
    startLine,
    endLine: startLine + 9,
    title: path.replace(/\.md$/, ''),
    headingPath: [heading],
    text,
  });
  return [
    chunk('ops/backups.md', 1, 'Backups', 'Database backups run nightly with pgbackrest. Configure the backup schedule in backup.yaml and keep fourteen days of retention.'),
    chunk('ops/backups.md', 11, 'Replica backups', 'For replicas, backups are taken from the standby to spare the primary; set replica_backup: true in backup.yaml.'),
    chunk('security/keys.md', 1, 'Rotating signing keys', 'Rotate the API signing keys every ninety days with `docent-keys rotate`. Old keys stay valid for verification for seven days.'),
    chunk('security/keys.md', 11, 'Emergency revocation', 'If a signing key leaks, revoke it with `docent-keys revoke --now` and page the security on-call.'),
    chunk('dev/setup.md', 1, 'Local setup', 'Install Node 20 and run npm ci, then npm test. The dev server starts with npm run dev on port 5173.'),
    chunk('dev/deploy.md', 1, 'Deploying', 'Deploys go through the release pipeline; tag a commit with vX.Y.Z and the pipeline ships it to staging, then production.'),
  ];
}
