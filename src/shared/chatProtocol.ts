/**
 * The one message protocol between the extension and the chat webview. Both sides validate
 * every message on arrival with the guards below and drop what does not match: a webview is
 * untrusted content, and a stale webview bundle may talk an older dialect.
 * Imported by the extension bundle and the browser bundle, so it must not import Node or vscode.
 */

/** A source passage an answer cites as `[n]`. `folder` names the workspace folder in multi-root workspaces and is empty otherwise. */
export interface CitationInfo {
  n: number;
  folder: string;
  path: string;
  startLine: number;
  endLine: number;
  heading?: string;
  /** The cited passage, shown on hover. */
  text: string;
}

/** Something the user can do about a failed or degraded answer. */
export type FixAction = 'setApiKey' | 'configureEndpoint' | 'retry' | 'startLocalServer' | 'reindex';

export type AnswerMode = 'generated' | 'extractive' | 'retrieval-only';

export interface ChatTurn {
  id: string;
  question: string;
  answer: string;
  citations: CitationInfo[];
  /** Set when the answer finished; absent while it streams. */
  state: 'streaming' | 'done' | 'stopped' | 'error';
  mode?: AnswerMode;
  degradedReason?: string;
  error?: string;
  actions?: FixAction[];
  /** Explain Selection: the file and language the selection came from. */
  selection?: { path: string; languageId: string };
}

export interface IndexStatus {
  state: 'idle' | 'indexing' | 'paused' | 'ready' | 'error' | 'restricted';
  /** 0-100 while indexing. */
  percent?: number;
  files: number;
  chunks: number;
  message?: string;
}

export interface BackendInfo {
  kind: 'local' | 'remote' | 'none';
  /** For remote: the host questions and passages are sent to. */
  host?: string;
}

export type HostToWebview =
  | { type: 'init'; turns: ChatTurn[]; index: IndexStatus; backend: BackendInfo; examples: string[] }
  | { type: 'index'; index: IndexStatus }
  | { type: 'backend'; backend: BackendInfo }
  | { type: 'turnStarted'; turn: ChatTurn }
  | { type: 'delta'; id: string; text: string }
  | { type: 'sources'; id: string; citations: CitationInfo[] }
  | { type: 'done'; id: string; mode: AnswerMode; degradedReason?: string; actions?: FixAction[] }
  | { type: 'stopped'; id: string }
  | { type: 'failed'; id: string; error: string; actions: FixAction[] }
  | { type: 'cleared' };

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'ask'; question: string }
  | { type: 'stop'; id: string }
  | { type: 'retry'; id: string }
  | { type: 'newChat' }
  | { type: 'openCitation'; folder: string; path: string; startLine: number; endLine: number }
  | { type: 'copy'; text: string }
  | { type: 'fix'; action: FixAction };

const FIX_ACTIONS: readonly FixAction[] = ['setApiKey', 'configureEndpoint', 'retry', 'startLocalServer', 'reindex'];
const MODES: readonly AnswerMode[] = ['generated', 'extractive', 'retrieval-only'];
const TURN_STATES: readonly ChatTurn['state'][] = ['streaming', 'done', 'stopped', 'error'];
const INDEX_STATES: readonly IndexStatus['state'][] = ['idle', 'indexing', 'paused', 'ready', 'error', 'restricted'];
const BACKENDS: readonly BackendInfo['kind'][] = ['local', 'remote', 'none'];

/** Bounds that keep a hostile or buggy peer from making the other side do unbounded work. */
const MAX_TEXT = 200_000;
const MAX_QUESTION = 8_000;
const MAX_ITEMS = 500;

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isString(value: unknown, max = MAX_TEXT): value is string {
  return typeof value === 'string' && value.length <= max;
}

function isOptionalString(value: unknown): boolean {
  return value === undefined || isString(value);
}

function isLine(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 10_000_000;
}

function isOneOf<T>(values: readonly T[], value: unknown): value is T {
  return values.includes(value as T);
}

function isArrayOf<T>(value: unknown, guard: (item: unknown) => item is T): value is T[] {
  return Array.isArray(value) && value.length <= MAX_ITEMS && value.every(guard);
}

function isActions(value: unknown): value is FixAction[] {
  return isArrayOf(value, (item): item is FixAction => isOneOf(FIX_ACTIONS, item));
}

/** A relative path inside a workspace folder: no absolute paths, no `..` segments. */
export function isSafeRelativePath(value: unknown): value is string {
  if (!isString(value, 4096) || value.length === 0) return false;
  if (value.startsWith('/') || value.startsWith('\\') || /^[a-zA-Z]:/.test(value) || value.includes('\0')) return false;
  return !value.split(/[\\/]/).some((segment) => segment === '..');
}

export function isCitation(value: unknown): value is CitationInfo {
  return (
    isObject(value) &&
    typeof value.n === 'number' &&
    Number.isInteger(value.n) &&
    value.n >= 1 &&
    isString(value.folder, 1024) &&
    isSafeRelativePath(value.path) &&
    isLine(value.startLine) &&
    isLine(value.endLine) &&
    value.endLine >= value.startLine &&
    isOptionalString(value.heading) &&
    isString(value.text)
  );
}

function isCitations(value: unknown): value is CitationInfo[] {
  return isArrayOf(value, isCitation);
}

export function isChatTurn(value: unknown): value is ChatTurn {
  return (
    isObject(value) &&
    isString(value.id, 100) &&
    isString(value.question, MAX_QUESTION * 4) &&
    isString(value.answer) &&
    isCitations(value.citations) &&
    isOneOf(TURN_STATES, value.state) &&
    (value.mode === undefined || isOneOf(MODES, value.mode)) &&
    isOptionalString(value.degradedReason) &&
    isOptionalString(value.error) &&
    (value.actions === undefined || isActions(value.actions)) &&
    (value.selection === undefined ||
      (isObject(value.selection) && isString(value.selection.path, 4096) && isString(value.selection.languageId, 100)))
  );
}

function isIndexStatus(value: unknown): value is IndexStatus {
  return (
    isObject(value) &&
    isOneOf(INDEX_STATES, value.state) &&
    (value.percent === undefined || (typeof value.percent === 'number' && value.percent >= 0 && value.percent <= 100)) &&
    typeof value.files === 'number' &&
    typeof value.chunks === 'number' &&
    isOptionalString(value.message)
  );
}

function isBackendInfo(value: unknown): value is BackendInfo {
  return isObject(value) && isOneOf(BACKENDS, value.kind) && (value.host === undefined || isString(value.host, 1024));
}

export function isHostToWebview(value: unknown): value is HostToWebview {
  if (!isObject(value)) return false;
  switch (value.type) {
    case 'init':
      return (
        isArrayOf(value.turns, isChatTurn) &&
        isIndexStatus(value.index) &&
        isBackendInfo(value.backend) &&
        isArrayOf(value.examples, (item): item is string => isString(item, 500))
      );
    case 'index':
      return isIndexStatus(value.index);
    case 'backend':
      return isBackendInfo(value.backend);
    case 'turnStarted':
      return isChatTurn(value.turn);
    case 'delta':
      return isString(value.id, 100) && isString(value.text);
    case 'sources':
      return isString(value.id, 100) && isCitations(value.citations);
    case 'done':
      return (
        isString(value.id, 100) &&
        isOneOf(MODES, value.mode) &&
        isOptionalString(value.degradedReason) &&
        (value.actions === undefined || isActions(value.actions))
      );
    case 'stopped':
      return isString(value.id, 100);
    case 'failed':
      return isString(value.id, 100) && isString(value.error, 10_000) && isActions(value.actions);
    case 'cleared':
      return true;
    default:
      return false;
  }
}

export function isWebviewToHost(value: unknown): value is WebviewToHost {
  if (!isObject(value)) return false;
  switch (value.type) {
    case 'ready':
    case 'newChat':
      return true;
    case 'ask':
      return isString(value.question, MAX_QUESTION) && value.question.trim().length > 0;
    case 'stop':
    case 'retry':
      return isString(value.id, 100);
    case 'openCitation':
      return (
        isString(value.folder, 1024) &&
        isSafeRelativePath(value.path) &&
        isLine(value.startLine) &&
        isLine(value.endLine) &&
        value.endLine >= value.startLine
      );
    case 'copy':
      return isString(value.text);
    case 'fix':
      return isOneOf(FIX_ACTIONS, value.action);
    default:
      return false;
  }
}

/**
 * Show Metrics: the extension redraws the panel's body by message rather than replacing the
 * whole document, so the reader's scroll position and focus survive each redraw. The markup is
 * built and escaped by the extension (src/extension/metricsPanel.ts); the panel's CSP runs no
 * script but its own.
 */
export interface MetricsUpdate {
  type: 'metrics';
  html: string;
}

const MAX_METRICS_HTML = 1_000_000;

export function isMetricsUpdate(value: unknown): value is MetricsUpdate {
  return isObject(value) && value.type === 'metrics' && isString(value.html, MAX_METRICS_HTML);
}
