/**
 * One Retriever over every workspace folder's store. Every folder is searched with the keyword
 * statistics of all folders summed (so a term rare across the workspace weighs the same in each,
 * however small the folder), each list keeps its own order, and the lists are merged by
 * `relevance`, which then compares: the folder that actually answers comes first. With several
 * folders each path is prefixed with its folder's name (`api-docs/guide/auth.md`), so the model
 * and the citations say which folder a passage came from.
 */
import { sumCollectionStatistics } from '../store.js';
import type { HybridRetriever } from './hybrid.js';
import type { RetrievalHit, Retriever, SearchMode } from '../types.js';

export interface FolderRetriever {
  name: string;
  retriever: HybridRetriever;
}

export class MultiFolderRetriever implements Retriever {
  constructor(private readonly folders: FolderRetriever[]) {}

  get prefixed(): boolean {
    return this.folders.length > 1;
  }

  get embedderId(): string {
    return this.folders[0]?.retriever.embedderId ?? 'none';
  }

  get generation(): number {
    return this.folders.reduce((sum, folder) => sum + folder.retriever.generation, 0);
  }

  fileHash(path: string): string | undefined {
    const located = this.locate(path);
    return located ? located.folder.retriever.fileHash(located.path) : undefined;
  }

  /** The folder and folder-relative path of a path this retriever returned. */
  locate(path: string): { folder: FolderRetriever; path: string } | undefined {
    if (!this.prefixed) return this.folders[0] ? { folder: this.folders[0], path } : undefined;
    const slash = path.indexOf('/');
    const folder = this.folders.find((candidate) => candidate.name === path.slice(0, slash));
    return folder ? { folder, path: path.slice(slash + 1) } : undefined;
  }

  async search(
    query: string,
    options: { k: number; queryVector?: Float32Array; signal?: AbortSignal; mode?: SearchMode; explain?: boolean },
  ): Promise<RetrievalHit[]> {
    if (!this.prefixed) return this.folders[0] ? this.folders[0].retriever.search(query, options) : [];
    const collection = sumCollectionStatistics(this.folders.map((folder) => folder.retriever.keywordStatistics(query)));
    const lists = await Promise.all(this.folders.map((folder) => folder.retriever.search(query, { ...options, collection })));
    const merged = lists.flatMap((hits, i) =>
      hits.map((hit) => ({ ...hit, chunk: { ...hit.chunk, path: `${this.folders[i]!.name}/${hit.chunk.path}` } })),
    );
    // Stable: equal relevance keeps folder order, and within a folder relevance follows its own ranking.
    return merged.sort((a, b) => (b.relevance ?? 0) - (a.relevance ?? 0)).slice(0, options.k);
  }
}
