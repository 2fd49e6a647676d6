/** Reads Docent's settings (contributed in package.json) into the core process's workspace options. */
import * as vscode from 'vscode';
import { clampSetting, SETTING_RANGES, type NumericSetting } from '../core/bounds.js';
import type { DeviceChoice } from '../core/onnx/session.js';
import type { BackendConfig } from '../core/pipeline/types.js';
import type { WorkspaceFolder, WorkspaceOptions } from '../core/workspace/options.js';
import type { BackendInfo } from '../shared/chatProtocol.js';

export type BackendKind = BackendInfo['kind'];

export const DEFAULT_LOCAL_PORT = SETTING_RANGES['localServer.port'].default;

function section(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('docent');
}

/** A workspace can write any number into settings.json; the schema's range is not enforced, so it is here. */
function numberSetting(config: vscode.WorkspaceConfiguration, name: NumericSetting): number {
  return clampSetting(name, config.get<unknown>(name));
}

export function backendKind(): BackendKind {
  const kind = section().get<string>('backend', 'none');
  return kind === 'local' || kind === 'remote' ? kind : 'none';
}

export function localServerSettings(): { modelPath: string; port: number; autoStart: boolean } {
  const config = section();
  return {
    modelPath: config.get<string>('localServer.modelPath', ''),
    port: numberSetting(config, 'localServer.port'),
    autoStart: config.get<boolean>('localServer.autoStart', false),
  };
}

export function firstTokenTimeoutSeconds(): number {
  return numberSetting(section(), 'answer.firstTokenTimeoutSeconds');
}

export function remoteModel(): string {
  return section().get<string>('remote.model', '').trim();
}

/**
 * Why the configured backend cannot answer at all, or undefined: a remote backend needs an
 * http(s) URL and a model name (without them questions would quietly get passages only).
 */
export function backendProblem(): string | undefined {
  if (backendKind() !== 'remote') return undefined;
  const baseUrl = section().get<string>('remote.baseUrl', '').trim();
  if (!/^https?:\/\//.test(baseUrl)) return baseUrl ? `"docent.remote.baseUrl" (${baseUrl}) is not an http(s) URL.` : 'The remote backend has no endpoint: "docent.remote.baseUrl" is empty.';
  if (!remoteModel()) return 'The remote backend has no model name: "docent.remote.model" is empty.';
  return undefined;
}

/**
 * Opens the Settings editor on `query` where Docent's machine-scoped settings live: in a remote
 * window (Remote-SSH, WSL, containers, code-server) that is the Remote tab, not User.
 */
export function openSettings(query: string): Thenable<unknown> {
  if (vscode.env.remoteName) return vscode.commands.executeCommand('workbench.action.openRemoteSettings', { query });
  return vscode.commands.executeCommand('workbench.action.openSettings', { query });
}

/** What the chat view shows about where questions go; remote names the host. */
export function backendInfo(): BackendInfo {
  const kind = backendKind();
  if (kind !== 'remote') return { kind };
  const baseUrl = section().get<string>('remote.baseUrl', '');
  const problem = backendProblem();
  try {
    return { kind, host: new URL(baseUrl).host, ...(problem ? { problem } : {}) };
  } catch {
    return { kind, host: baseUrl || '(no endpoint configured)', ...(problem ? { problem } : {}) };
  }
}

/** Null when no backend answers (retrieval-only) or the remote endpoint is not configured. */
function backendConfig(keys: BackendKeys): BackendConfig | null {
  const config = section();
  switch (backendKind()) {
    case 'local':
      return { baseURL: `http://127.0.0.1:${localServerSettings().port}/v1`, model: '', apiKey: keys.localServer };
    case 'remote': {
      const baseURL = config.get<string>('remote.baseUrl', '');
      const model = config.get<string>('remote.model', '');
      if (!/^https?:\/\//.test(baseURL) || !model) return null;
      return { baseURL, model, ...(keys.remote ? { apiKey: keys.remote } : {}) };
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

/** The remote endpoint's key (SecretStorage) and the local server's session key. */
export interface BackendKeys {
  remote: string | undefined;
  localServer: string;
}

export function workspaceOptions(folders: WorkspaceFolder[], workspaceFolders: readonly vscode.WorkspaceFolder[], keys: BackendKeys): WorkspaceOptions {
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
    deviceId: numberSetting(config, 'embedding.deviceId'),
    embeddingWorkers: numberSetting(config, 'performance.embeddingWorkers'),
    indexing: {
      exclude: [...exclude],
      include: config.get<string[]>('index.include', []).map((extension) => extension.replace(/^\./, '').toLowerCase()),
      maxFileBytes: numberSetting(config, 'index.maxFileSizeKB') * 1024,
      allowSecretFiles: config.get<boolean>('index.allowSecretFiles', false),
      checkpointFiles: CHECKPOINT_FILES,
    },
    answers: {
      backend: backendConfig(keys),
      limits: { k: numberSetting(config, 'answer.passages'), maxInFlight: numberSetting(config, 'performance.maxConcurrentRequests') },
      timeouts: { idleTokenMs: numberSetting(config, 'answer.idleTimeoutSeconds') * 1000, firstTokenMs: firstTokenTimeoutSeconds() * 1000 },
      cache: {
        enabled: cache,
        answers: { maxEntries: numberSetting(config, 'cache.answerEntries'), ttlMs: numberSetting(config, 'cache.answerTtlSeconds') * 1000 },
        embeddings: { maxEntries: numberSetting(config, 'cache.embeddingEntries'), ttlMs: numberSetting(config, 'cache.embeddingTtlSeconds') * 1000 },
      },
    },
  };
}
