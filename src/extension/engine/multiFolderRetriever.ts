/**
 * One Retriever over every workspace folder's store. Scores are comparable only within one
 * folder's list, so the lists are merged by reciprocal rank. With several folders each path is
 * prefixed with its folder's name (`api-docs/guide/auth.md`), so the model and the citations
 * say which folder a passage came from.
 */
import type { RetrievalHit, Retriever } from '../../core/types.js';

export interface FolderRetriever {
  name: string;
  retriever: Retriever;
}

const RANK_CONSTANT = 60;

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

  async search(query: string, options: { k: number; queryVector?: Float32Array; signal?: AbortSignal }): Promise<RetrievalHit[]> {
    const lists = await Promise.all(this.folders.map((folder) => folder.retriever.search(query, options)));
    if (!this.prefixed) return lists[0] ?? [];
    const merged = lists.flatMap((hits, i) =>
      hits.map((hit, rank) => ({
        chunk: { ...hit.chunk, path: `${this.folders[i]!.name}/${hit.chunk.path}` },
        score: 1 / (RANK_CONSTANT + rank + 1),
      })),
    );
    return merged.sort((a, b) => b.score - a.score).slice(0, options.k);
  }
}
