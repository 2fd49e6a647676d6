/**
 * The message protocol between the extension and the chat webview. Both sides validate every
 * message on arrival with the guards below and drop what does not match: a webview is untrusted
 * content, and a stale webview bundle may talk an older dialect. Imported by the extension bundle
 * and the browser bundle, so it imports neither Node nor vscode; answers, citations and index
 * states are core's own types (imported for their shape only).
 */
import type { AnswerMode, LocatedCitation, PartialIndex } from '../core/pipeline/types.js';
import type { IndexState } from '../core/workspace/indexState.js';
import { isArrayOf, isLine, isObject, isOneOf, isOptionalString, isString, MAX_QUESTION } from './validate.js';

/** The webview speaks core's vocabulary for answers: how one was made, and the passages it cites as `[n]`. */
export type { AnswerMode, LocatedCitation };

/** Something the user can do about a failed or degraded answer. */
export type FixAction = 'setApiKey' | 'configureEndpoint' | 'configureBackend' | 'openTimeoutSetting' | 'showLog' | 'retry' | 'startLocalServer' | 'reindex';

/** A step of answering shown before the first token; the host words it (`text`). */
export type ProgressStep = 'searching' | 'waiting';

export interface ChatTurn {
  id: string;
  question: string;
  answer: string;
  citations: LocatedCitation[];
  /** Every passage retrieval found for the question, numbered as the prompt numbers them ("Used N passages"). */
  passages?: LocatedCitation[];
  /** Answered while the index did not cover the workspace (the answer's first paragraph says how much it did). */
  partialIndex?: PartialIndex;
  /** Set when the answer finished; absent while it streams. */
  state: 'streaming' | 'done' | 'stopped' | 'error';
  mode?: AnswerMode;
  degradedReason?: string;
  error?: string;
  actions?: FixAction[];
  /** Explain Selection: the file, lines and language the selection came from (turns stored before lines existed have none). */
  selection?: { path: string; languageId: string; startLine?: number; endLine?: number };
  /** The query retrieval ran with, when the answer says (the chat shows it where it differs from the question). */
  searchedQuery?: string;
  /** Nothing in the docs answers: the closest headings, which the answer lists and a click asks about. */
  suggestions?: string[];
}

/** The index as the chat view shows it: the workspace's state, or why there is none yet. */
export interface IndexStatus extends Pick<IndexState, 'files' | 'chunks' | 'message' | 'partial' | 'step'> {
  state: Exclude<IndexState['state'], 'cancelled'> | 'idle' | 'restricted';
  /** 0-100 while indexing. */
  percent?: number;
}

export interface BackendInfo {
  kind: 'local' | 'remote' | 'editor' | 'none';
  /** For remote: the host questions and passages are sent to; for editor: the model's id. */
  host?: string;
  /** Why this backend cannot answer as configured (e.g. no model name). */
  problem?: string;
}

export type HostToWebview =
  /** The whole view: on ready, New chat, and when another conversation is opened. */
  | { type: 'init'; turns: ChatTurn[]; index: IndexStatus; backend: BackendInfo; examples: string[]; title?: string }
  | { type: 'index'; index: IndexStatus }
  | { type: 'backend'; backend: BackendInfo }
  /** `replaces`: Retry puts the new turn where that one was. */
  | { type: 'turnStarted'; turn: ChatTurn; replaces?: string }
  | { type: 'progress'; id: string; step: ProgressStep; text: string }
  | { type: 'passages'; id: string; citations: LocatedCitation[] }
  | { type: 'delta'; id: string; text: string }
  | { type: 'sources'; id: string; citations: LocatedCitation[] }
  | { type: 'done'; id: string; mode: AnswerMode; degradedReason?: string; actions?: FixAction[]; searchedQuery?: string; suggestions?: string[] }
  | { type: 'stopped'; id: string }
  | { type: 'failed'; id: string; error: string; actions: FixAction[] }
  /** Before the answer's first token: it is made while the index does not cover the workspace. */
  | { type: 'partialIndex'; id: string; partial: PartialIndex }
  /** Open Chat / the focus keybinding: put the caret in the question box. */
  | { type: 'focusInput' };

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'ask'; question: string }
  | { type: 'stop'; id: string }
  | { type: 'retry'; id: string }
  | { type: 'newChat' }
  /** Past Chats (the host shows them in a quick pick). */
  | { type: 'history' }
  | { type: 'openCitation'; folder: string; path: string; startLine: number; endLine: number }
  | { type: 'copy'; text: string }
  /** Insert at Cursor: the text goes into the editor the user last worked in. */
  | { type: 'insert'; text: string }
  | { type: 'fix'; action: FixAction }
  /** The index bar's Pause and Resume buttons. */
  | { type: 'indexing'; action: 'pause' | 'resume' };

const FIX_ACTIONS: readonly FixAction[] = ['setApiKey', 'configureEndpoint', 'configureBackend', 'openTimeoutSetting', 'showLog', 'retry', 'startLocalServer', 'reindex'];
const PROGRESS_STEPS: readonly ProgressStep[] = ['searching', 'waiting'];
const MODES: readonly AnswerMode[] = ['generated', 'extractive', 'retrieval-only'];
const TURN_STATES: readonly ChatTurn['state'][] = ['streaming', 'done', 'stopped', 'error'];
const INDEX_STATES: readonly IndexStatus['state'][] = ['idle', 'indexing', 'paused', 'ready', 'error', 'restricted'];
const BACKENDS: readonly BackendInfo['kind'][] = ['local', 'remote', 'editor', 'none'];
const PARTIAL_STATES: readonly PartialIndex['state'][] = ['indexing', 'paused', 'stopped'];
const INDEXING_ACTIONS = ['pause', 'resume'] as const;

function isActions(value: unknown): value is FixAction[] {
  return isArrayOf(value, (item): item is FixAction => isOneOf(FIX_ACTIONS, item));
}

/** A relative path inside a workspace folder: no absolute paths, no `..` segments. */
export function isSafeRelativePath(value: unknown): value is string {
  if (!isString(value, 4096) || value.length === 0) return false;
  if (value.startsWith('/') || value.startsWith('\\') || /^[a-zA-Z]:/.test(value) || value.includes('\0')) return false;
  return !value.split(/[\\/]/).some((segment) => segment === '..');
}

export function isCitation(value: unknown): value is LocatedCitation {
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

function isCitations(value: unknown): value is LocatedCitation[] {
  return isArrayOf(value, isCitation);
}

export function isChatTurn(value: unknown): value is ChatTurn {
  return (
    isObject(value) &&
    isString(value.id, 100) &&
    isString(value.question, MAX_QUESTION * 4) &&
    isString(value.answer) &&
    isCitations(value.citations) &&
    (value.passages === undefined || isCitations(value.passages)) &&
    (value.partialIndex === undefined || isPartialIndex(value.partialIndex)) &&
    isOneOf(TURN_STATES, value.state) &&
    (value.mode === undefined || isOneOf(MODES, value.mode)) &&
    isOptionalString(value.degradedReason) &&
    isOptionalString(value.error) &&
    (value.actions === undefined || isActions(value.actions)) &&
    (value.selection === undefined || isTurnSelection(value.selection)) &&
    isOptionalQuery(value.searchedQuery) &&
    isOptionalSuggestions(value.suggestions)
  );
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isPartialIndex(value: unknown): value is PartialIndex {
  return isObject(value) && isOneOf(PARTIAL_STATES, value.state) && isCount(value.filesIndexed) && (value.filesTotal === undefined || isCount(value.filesTotal));
}

function isTurnSelection(value: unknown): value is NonNullable<ChatTurn['selection']> {
  if (!isObject(value) || !isString(value.path, 4096) || !isString(value.languageId, 100)) return false;
  if (value.startLine === undefined && value.endLine === undefined) return true;
  return isLine(value.startLine) && isLine(value.endLine) && value.endLine >= value.startLine;
}

function isOptionalQuery(value: unknown): boolean {
  return value === undefined || isString(value, MAX_QUESTION * 4);
}

function isOptionalSuggestions(value: unknown): boolean {
  return value === undefined || isArrayOf(value, (item): item is string => isString(item, 1000));
}

function isIndexStatus(value: unknown): value is IndexStatus {
  return (
    isObject(value) &&
    isOneOf(INDEX_STATES, value.state) &&
    (value.percent === undefined || (typeof value.percent === 'number' && value.percent >= 0 && value.percent <= 100)) &&
    (value.step === undefined || value.step === 'graph') &&
    typeof value.files === 'number' &&
    typeof value.chunks === 'number' &&
    isOptionalString(value.message) &&
    (value.partial === undefined || isPartialIndex(value.partial))
  );
}

function isBackendInfo(value: unknown): value is BackendInfo {
  return isObject(value) && isOneOf(BACKENDS, value.kind) && (value.host === undefined || isString(value.host, 1024)) && (value.problem === undefined || isString(value.problem, 1024));
}

export function isHostToWebview(value: unknown): value is HostToWebview {
  if (!isObject(value)) return false;
  switch (value.type) {
    case 'init':
      return (
        isArrayOf(value.turns, isChatTurn) &&
        isIndexStatus(value.index) &&
        isBackendInfo(value.backend) &&
        isArrayOf(value.examples, (item): item is string => isString(item, 500)) &&
        (value.title === undefined || isString(value.title, 500))
      );
    case 'index':
      return isIndexStatus(value.index);
    case 'backend':
      return isBackendInfo(value.backend);
    case 'turnStarted':
      return isChatTurn(value.turn) && (value.replaces === undefined || isString(value.replaces, 100));
    case 'progress':
      return isString(value.id, 100) && isOneOf(PROGRESS_STEPS, value.step) && isString(value.text, 500);
    case 'passages':
      return isString(value.id, 100) && isCitations(value.citations);
    case 'delta':
      return isString(value.id, 100) && isString(value.text);
    case 'sources':
      return isString(value.id, 100) && isCitations(value.citations);
    case 'done':
      return (
        isString(value.id, 100) &&
        isOneOf(MODES, value.mode) &&
        isOptionalString(value.degradedReason) &&
        (value.actions === undefined || isActions(value.actions)) &&
        isOptionalQuery(value.searchedQuery) &&
        isOptionalSuggestions(value.suggestions)
      );
    case 'stopped':
      return isString(value.id, 100);
    case 'failed':
      return isString(value.id, 100) && isString(value.error, 10_000) && isActions(value.actions);
    case 'partialIndex':
      return isString(value.id, 100) && isPartialIndex(value.partial);
    case 'focusInput':
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
    case 'history':
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
    case 'insert':
      return isString(value.text);
    case 'fix':
      return isOneOf(FIX_ACTIONS, value.action);
    case 'indexing':
      return isOneOf(INDEXING_ACTIONS, value.action);
    default:
      return false;
  }
}
