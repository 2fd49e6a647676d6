/**
 * The index of a workspace as front ends show it. No Node import, not even of a type, so the
 * webview's protocol can build on them.
 */
import type { EmbedderRuntime } from '../types.js';
import type { PartialIndex } from '../pipeline/types.js';

/** Files, passages and where embeddings run, summed over the workspace's folders. */
export interface IndexTotals {
  files: number;
  chunks: number;
  device?: EmbedderRuntime['kind'];
  provider?: string;
}

/** The workspace's index as a status bar or a chat view shows it. */
export interface IndexState extends IndexTotals {
  state: 'indexing' | 'paused' | 'ready' | 'cancelled' | 'error';
  /** 0-100 over all folders of the current run; in step 'graph', of that step. */
  percent: number;
  /** 'graph': every file is read and the run builds a folder's vector graph (seconds on a large folder). */
  step?: 'graph';
  message?: string;
  /** While the index does not cover the workspace: how much of it is indexed (what answers say too). */
  partial?: PartialIndex;
}

/**
 * Where a run stands while it indexes folder `folder` of `folders`. Every file is read while a
 * folder's graph builds (seconds on a large folder): that step has its own percent rather than a
 * long stop at 100%.
 */
export function runProgress(progress: { filesDone: number; filesTotal: number; graph?: { added: number; total: number } }, folder: number, folders: number): Pick<IndexState, 'percent' | 'step'> {
  if (progress.graph) return { step: 'graph', percent: Math.floor((progress.graph.added / Math.max(1, progress.graph.total)) * 100) };
  const fraction = progress.filesTotal === 0 ? 0 : progress.filesDone / progress.filesTotal;
  return { percent: Math.floor(((folder + fraction) / folders) * 100) };
}
