/**
 * Messages between the extension host and the engine child process (dist/coreProcess.js), which
 * runs src/core: indexing, retrieval and answering never touch the extension host's event loop,
 * and onnxruntime / hnswlib are never loaded into it. Both ends are our own code, shipped in
 * one VSIX, so the shapes are typed rather than validated.
 */
import type { DeviceChoice } from '../../core/onnx/session.js';
import type { MetricsSnapshot } from '../../core/pipeline/types.js';
import type { IndexProgressInfo } from './progress.js';
import type { CitationInfo } from '../../shared/protocol.js';

export interface FolderConfig {
  /** Unique among the workspace's folders; prefixes citation paths in multi-root workspaces. */
  name: string;
  root: string;
  storeDir: string;
}

export interface BackendSettings {
  baseURL: string;
  /** Empty: ask the server's /v1/models (the local server serves exactly one model). */
  model: string;
  apiKey?: string;
}

export interface EngineConfig {
  folders: FolderConfig[];
  /** Gitignore-style globs added to the core's default excludes (files.exclude + docent.index.exclude). */
  exclude: string[];
  /** File extensions to index; empty means every supported one. */
  include: string[];
  maxFileBytes: number;
  /** 'default' | 'hashing' | 'none' | a model folder. */
  embeddingModel: string;
  device: DeviceChoice;
  /** GPU index for CUDA and DirectML. */
  deviceId: number;
  embeddingWorkers: number;
  backend: BackendSettings | null;
  cache: { enabled: boolean; answerEntries: number; answerTtlSeconds: number; embeddingEntries: number; embeddingTtlSeconds: number };
  maxConcurrentRequests: number;
  passagesPerQuestion: number;
}

export interface AskParams {
  question: string;
  history: { role: 'user' | 'assistant'; content: string }[];
  selection?: { text: string; languageId: string; path: string };
}

/** The engine cites passages exactly as the chat shows them. */
export type EngineCitation = CitationInfo;

export interface EngineStats {
  files: number;
  chunks: number;
  device?: 'cpu' | 'gpu' | 'remote';
  provider?: string;
}

export type HostToEngine =
  | { type: 'configure'; config: EngineConfig }
  | { type: 'index'; folders?: string[] }
  | { type: 'pauseIndex' }
  | { type: 'resumeIndex' }
  | { type: 'cancelIndex' }
  | { type: 'ask'; id: string; params: AskParams }
  | { type: 'cancelAsk'; id: string }
  | { type: 'metrics'; id: string }
  | { type: 'clearCache' }
  | { type: 'pullModel'; id: string; repoId: string; cacheDir: string }
  | { type: 'cancelPull'; id: string };

export type EngineToHost =
  | { type: 'indexProgress'; progress: IndexProgressInfo }
  | { type: 'token'; id: string; text: string }
  | { type: 'sources'; id: string; citations: EngineCitation[] }
  | { type: 'answered'; id: string; mode: 'generated' | 'extractive' | 'retrieval-only'; degradedReason?: string }
  | { type: 'askFailed'; id: string; message: string; reason: 'aborted' | 'busy' | 'error' }
  | { type: 'metrics'; id: string; metrics: MetricsSnapshot | null; stats: EngineStats }
  | { type: 'pullProgress'; id: string; message: string }
  | { type: 'pulled'; id: string; folder?: string; error?: string; cancelled?: boolean }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };
