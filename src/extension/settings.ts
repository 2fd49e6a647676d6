/** Reads Docent's settings (contributed in package.json) into the core process's workspace options. */
import * as vscode from 'vscode';
import type { DeviceChoice } from '../core/onnx/session.js';
import type { BackendConfig } from '../core/pipeline/types.js';
import type { WorkspaceFolder, WorkspaceOptions } from '../core/workspace/options.js';
import type { BackendInfo } from '../shared/chatProtocol.js';

export type BackendKind = BackendInfo['kind'];

export const DEFAULT_LOCAL_PORT = 8123;

function section(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('docent');
}

export function backendKind(): BackendKind {
  const kind = section().get<string>('backend', 'none');
  return kind === 'local' || kind === 'remote' || kind === 'editor' ? kind : 'none';
}

export function localServerSettings(): { modelPath: string; port: number; autoStart: boolean } {
  const config = section();
  return {
    modelPath: config.get<string>('localServer.modelPath', ''),
    port: config.get<number>('localServer.port', DEFAULT_LOCAL_PORT),
    autoStart: config.get<boolean>('localServer.autoStart', false),
  };
}

/** What the chat view shows about where questions go; remote names the host. */
export function backendInfo(): BackendInfo {
  const kind = backendKind();
  if (kind === 'editor') return { kind, host: editorModel() || "the editor's first model" };
  if (kind !== 'remote') return { kind };
  const baseUrl = section().get<string>('remote.baseUrl', '');
  try {
    return { kind, host: new URL(baseUrl).host };
  } catch {
    return { kind, host: baseUrl || '(no endpoint configured)' };
  }
}

/** The editor model's id (`docent.editor.model`); '' for the first model the editor offers. */
function editorModel(): string {
  return section().get<string>('editor.model', '');
}

/** Null when no backend answers (retrieval-only) or the remote endpoint is not configured. */
function backendConfig(apiKey: string | undefined): BackendConfig | null {
  const config = section();
  switch (backendKind()) {
    case 'local':
      return { baseURL: `http://127.0.0.1:${localServerSettings().port}/v1`, model: '' };
    case 'remote': {
      const baseURL = config.get<string>('remote.baseUrl', '');
      const model = config.get<string>('remote.model', '');
      if (!/^https?:\/\//.test(baseURL) || !model) return null;
      return { baseURL, model, ...(apiKey ? { apiKey } : {}) };
    }
    default:
      return null;
  }
}

/** `files.exclude` patterns that are switched on, as gitignore-style globs. */
function filesExcludeGlobs(folder: vscode.WorkspaceFolder): string[] {
  const patterns = vscode.workspace.getConfiguration('files', folder.uri).get<Record<string, unknown>>('exclude', {});
  return Object.entries(patterns)
    .filter(([, enabled]) => enabled === true)
    .map(([glob]) => glob);
}

/** Checkpoints are small: the editor may close at any moment, and a resumed run redoes only the last one. */
const CHECKPOINT_FILES = 50;

export function workspaceOptions(folders: WorkspaceFolder[], workspaceFolders: readonly vscode.WorkspaceFolder[], apiKey: string | undefined): WorkspaceOptions {
  const config = section();
  const exclude = new Set(config.get<string[]>('index.exclude', []));
  if (config.get<boolean>('index.useFilesExclude', true)) {
    for (const folder of workspaceFolders) for (const glob of filesExcludeGlobs(folder)) exclude.add(glob);
  }
  const cache = config.get<boolean>('cache.enabled', true);
  return {
    folders,
    createStores: true,
    embedder: config.get<string>('embedding.model', 'default') || 'default',
    device: config.get<DeviceChoice>('embedding.device', 'auto'),
    deviceId: config.get<number>('embedding.deviceId', 0),
    embeddingWorkers: config.get<number>('performance.embeddingWorkers', 1),
    indexing: {
      exclude: [...exclude],
      include: config.get<string[]>('index.include', []).map((extension) => extension.replace(/^\./, '').toLowerCase()),
      maxFileBytes: Math.max(1, config.get<number>('index.maxFileSizeKB', 2048)) * 1024,
      checkpointFiles: CHECKPOINT_FILES,
    },
    answers: {
      backend: backendConfig(apiKey),
      ...(backendKind() === 'editor' ? { editorModel: editorModel() } : {}),
      limits: { k: config.get<number>('answer.passages', 6), maxInFlight: config.get<number>('performance.maxConcurrentRequests', 2) },
      cache: {
        enabled: cache,
        answers: { maxEntries: config.get<number>('cache.answerEntries', 500), ttlMs: config.get<number>('cache.answerTtlSeconds', 3600) * 1000 },
        embeddings: { maxEntries: config.get<number>('cache.embeddingEntries', 2000), ttlMs: config.get<number>('cache.embeddingTtlSeconds', 86_400) * 1000 },
      },
    },
  };
}
