/**
 * The index of a workspace as front ends show it. Types only and no Node import, so the
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
  /** 0-100 over all folders of the current run. */
  percent: number;
  message?: string;
  /** While the index does not cover the workspace: how much of it is indexed (what answers say too). */
  partial?: PartialIndex;
}
