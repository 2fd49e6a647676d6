/** Index progress as the engine reports it and the status bar, the chat view and notifications show it. */
export interface IndexProgressInfo {
  state: 'indexing' | 'paused' | 'ready' | 'cancelled' | 'error';
  /** 0-100 over all folders of the current run. */
  percent: number;
  files: number;
  chunks: number;
  device?: 'cpu' | 'gpu' | 'remote';
  provider?: string;
  message?: string;
}
