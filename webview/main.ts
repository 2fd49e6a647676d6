/**
 * The chat view's script (bundled to dist/webview.js, an IIFE for the browser). It owns no state
 * of record: the extension sends the conversation on `init` and every change after; this script
 * renders it and reports user intent. Every message is validated on arrival.
 */
import {
  isHostToWebview,
  type BackendInfo,
  type ChatTurn,
  type LocatedCitation,
  type FixAction,
  type HostToWebview,
  type IndexStatus,
  type WebviewToHost,
} from '../src/shared/chatProtocol.js';
import { renderMarkdown } from './markdown.js';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

const FIX_LABELS: Record<FixAction, string> = {
  setApiKey: 'Set API key',
  configureEndpoint: 'Open backend settings',
  configureBackend: 'Configure backend…',
  openTimeoutSetting: 'Change the timeout',
  showLog: 'Show log',
  retry: 'Retry',
  startLocalServer: 'Start local server',
  reindex: 'Reindex workspace',
};

/** Stops a streaming answer (Escape never does: it closes popups). The extension contributes the same key outside the view. */
const IS_MAC = navigator.platform.toLowerCase().startsWith('mac');
const STOP_KEY_LABEL = IS_MAC ? '⌘⇧⌫' : 'Ctrl+Shift+Backspace';

function isStopKey(event: KeyboardEvent): boolean {
  return event.key === 'Backspace' && event.shiftKey && (IS_MAC ? event.metaKey : event.ctrlKey) && !event.altKey;
}

/** Longest passage preview shown on hover. */
const PREVIEW_CHARS = 600;

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label: string, onClick: () => void, attributes: Record<string, string> = {}): HTMLButtonElement {
  const node = element('button', { type: 'button', ...attributes }, label);
  node.addEventListener('click', onClick);
  return node;
}

class ChatApp {
  private turns: ChatTurn[] = [];
  private index: IndexStatus = { state: 'idle', files: 0, chunks: 0 };
  private backend: BackendInfo = { kind: 'none' };
  private examples: string[] = [];
  private readonly turnNodes = new Map<string, HTMLElement>();
  private readonly pendingRender = new Set<string>();
  /** The step shown in place of the answer until its first token ("Searching 1,171 files…"). */
  private readonly progress = new Map<string, string>();
  /** Passage lists the reader opened or closed (otherwise open only while waiting for text). */
  private readonly passagesOpen = new Map<string, boolean>();
  private renderScheduled = false;

  private readonly title = element('div', { class: 'conversation-title', id: 'conversation-title' });
  private readonly notice = element('div', { class: 'notice', id: 'privacy-notice' });
  /** Index progress (and Pause/Resume) above the conversation, with or without turns. */
  private readonly indexBar = element('div', { class: 'index-bar', id: 'index-bar', hidden: '' });
  private readonly indexBarText = element('span', { class: 'index-bar-text' });
  private readonly pauseIndexing = button('Pause', () => vscode.postMessage({ type: 'indexing', action: 'pause' }), { class: 'link', 'data-action': 'pauseIndexing' });
  private readonly resumeIndexing = button('Resume', () => vscode.postMessage({ type: 'indexing', action: 'resume' }), { class: 'link', 'data-action': 'resumeIndexing' });
  private readonly reindex = button(FIX_LABELS.reindex, () => vscode.postMessage({ type: 'fix', action: 'reindex' }), { class: 'link', 'data-action': 'reindex' });
  private readonly indexMeter = element('div', { class: 'index-meter', role: 'progressbar', 'aria-label': 'Indexing', 'aria-valuemin': '0', 'aria-valuemax': '100' });
  private readonly indexMeterFill = element('div', { class: 'index-meter-fill' });
  /** The one scrolling region: the toolbar above and the composer below it always stay in view. */
  private readonly scroller = element('div', { class: 'scroller', id: 'scroller' });
  private readonly log = element('div', { class: 'log', role: 'log', 'aria-label': 'Conversation' });
  private readonly empty = element('div', { class: 'empty' });
  private readonly status = element('div', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
  private readonly input = element('textarea', {
    id: 'question',
    rows: '3',
    placeholder: 'Ask about your docs (Enter to send, Shift+Enter for a new line)',
    'aria-label': 'Question',
  });
  private readonly send = button('Ask', () => this.submit(), { class: 'primary', id: 'ask' });
  private readonly stop = button('Stop', () => this.stopStreaming(), { id: 'stop', 'aria-label': `Stop the answer (${STOP_KEY_LABEL})`, title: `Stop the answer (${STOP_KEY_LABEL})` });
  /** A question asked while an answer streams waits here and is sent when that answer ends. */
  private queued: string | undefined;
  private readonly queuedNote = element('div', { class: 'queued', id: 'queued', role: 'status' });

  constructor(root: HTMLElement) {
    const toolbar = element('div', { class: 'toolbar' });
    toolbar.append(
      this.title,
      button('Past chats', () => vscode.postMessage({ type: 'history' }), { id: 'history', title: 'Open, rename, delete or export earlier conversations' }),
      button('New chat', () => vscode.postMessage({ type: 'newChat' }), { id: 'new-chat', title: 'Start a new conversation; this one stays in Past chats' }),
    );
    const composer = element('form', { class: 'composer' });
    composer.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    document.addEventListener('keydown', (event) => {
      // Escape only closes what is open (the preview, as it closes an editor hover); it never stops an answer.
      if (event.key === 'Escape') {
        if (preview.visible) preview.hide();
        return;
      }
      if (isStopKey(event)) {
        event.preventDefault();
        this.stopStreaming();
      }
    });
    const actions = element('div', { class: 'composer-actions' });
    actions.append(this.stop, this.send);
    composer.append(this.queuedNote, this.input, actions);
    this.scroller.append(this.notice, this.empty, this.log);
    this.indexMeter.append(this.indexMeterFill);
    this.indexBar.append(this.indexBarText, this.pauseIndexing, this.resumeIndexing, this.reindex, this.indexMeter);
    root.append(toolbar, this.indexBar, this.scroller, this.status, composer);
    window.addEventListener('message', (event: MessageEvent<unknown>) => {
      // Anything else (stale dialects, other frames' messages) is dropped unseen.
      if (isHostToWebview(event.data)) this.receive(event.data);
    });
    this.renderChrome();
    vscode.postMessage({ type: 'ready' });
  }

  private receive(message: HostToWebview): void {
    switch (message.type) {
      case 'init':
        this.turns = message.turns;
        this.index = message.index;
        this.backend = message.backend;
        this.examples = message.examples;
        this.title.textContent = message.title || 'New conversation';
        this.title.title = this.title.textContent;
        this.log.replaceChildren();
        this.turnNodes.clear();
        this.progress.clear();
        for (const turn of this.turns) this.renderTurn(turn);
        this.scrollToEnd();
        break;
      case 'index':
        this.index = message.index;
        break;
      case 'backend':
        this.backend = message.backend;
        break;
      case 'turnStarted': {
        const replaced = message.replaces === undefined ? -1 : this.turns.findIndex((turn) => turn.id === message.replaces);
        const old = message.replaces === undefined ? undefined : this.turnNodes.get(message.replaces);
        if (replaced >= 0 && old) {
          // Retry: the new answer takes the old one's place instead of repeating the question below.
          this.turns.splice(replaced, 1, message.turn);
          this.turnNodes.delete(message.replaces!);
          const node = element('article', { class: 'turn', 'data-turn': message.turn.id });
          old.replaceWith(node);
          this.turnNodes.set(message.turn.id, node);
          this.renderTurn(message.turn);
        } else {
          this.turns.push(message.turn);
          this.renderTurn(message.turn);
          this.scrollToEnd();
        }
        this.announce('Docent is answering…');
        break;
      }
      case 'progress':
        if (!this.turn(message.id)) return;
        this.progress.set(message.id, message.text);
        this.announce(message.text);
        this.scheduleRender(message.id);
        return;
      case 'passages':
        this.updateTurn(message.id, (turn) => (turn.passages = message.citations));
        return;
      case 'delta':
        this.updateTurn(message.id, (turn) => (turn.answer += message.text));
        return;
      case 'sources':
        this.updateTurn(message.id, (turn) => (turn.citations = message.citations));
        return;
      case 'done':
        this.finish(message.id, { state: 'done', mode: message.mode, degradedReason: message.degradedReason, actions: message.actions, searchedQuery: message.searchedQuery, suggestions: message.suggestions });
        this.announce(message.degradedReason ? 'Answer complete (extractive).' : 'Answer complete.');
        break;
      case 'stopped':
        this.finish(message.id, { state: 'stopped' });
        this.announce('Answer stopped.');
        break;
      case 'failed':
        this.finish(message.id, { state: 'error', error: message.error, actions: message.actions });
        this.announce(`Docent could not answer: ${message.error}`);
        break;
      case 'focusInput':
        this.input.focus();
        return;
      case 'partialIndex':
        this.updateTurn(message.id, (turn) => (turn.partialIndex = message.partial));
        return;
    }
    this.renderChrome();
    this.sendQueued();
  }

  private turn(id: string): ChatTurn | undefined {
    return this.turns.find((turn) => turn.id === id);
  }

  /** A streamed change to one turn (ignored once the turn is gone), drawn on the next frame. */
  private updateTurn(id: string, change: (turn: ChatTurn) => void): void {
    const turn = this.turn(id);
    if (!turn) return;
    change(turn);
    this.scheduleRender(turn.id);
  }

  private streamingTurn(): ChatTurn | undefined {
    return this.turns.find((turn) => turn.state === 'streaming');
  }

  private finish(id: string, update: Partial<ChatTurn>): void {
    const turn = this.turn(id);
    if (!turn) return;
    Object.assign(turn, update);
    this.renderTurn(turn);
  }

  private submit(): void {
    const question = this.input.value.trim();
    if (!question) return;
    this.input.value = '';
    if (this.streamingTurn()) {
      this.queued = question;
      this.announce('Your question is queued; it is sent when the current answer ends.');
      this.renderChrome();
      return;
    }
    vscode.postMessage({ type: 'ask', question });
  }

  /** The queued question goes out once nothing streams any more. */
  private sendQueued(): void {
    if (this.queued === undefined || this.streamingTurn()) return;
    const question = this.queued;
    this.queued = undefined;
    this.renderChrome();
    vscode.postMessage({ type: 'ask', question });
  }

  private stopStreaming(): void {
    const turn = this.streamingTurn();
    if (turn) vscode.postMessage({ type: 'stop', id: turn.id });
  }

  private cancelQueued(): void {
    this.input.value = this.queued ?? this.input.value;
    this.queued = undefined;
    this.renderChrome();
    this.input.focus();
  }

  private announce(text: string): void {
    this.status.textContent = text;
  }

  /** Streamed tokens arrive faster than frames; re-render each turn at most once per frame. */
  private scheduleRender(id: string): void {
    this.pendingRender.add(id);
    if (this.renderScheduled) return;
    this.renderScheduled = true;
    requestAnimationFrame(() => {
      this.renderScheduled = false;
      for (const pending of this.pendingRender) {
        const turn = this.turn(pending);
        if (turn) this.renderTurn(turn);
      }
      this.pendingRender.clear();
      preview.hideIfDetached();
    });
  }

  private renderChrome(): void {
    const streaming = this.streamingTurn() !== undefined;
    this.stop.hidden = !streaming;
    // While an answer streams, Enter queues the next question: the button says so.
    this.send.textContent = streaming ? 'Queue' : 'Ask';
    this.send.title = streaming ? 'Sent when the current answer ends' : '';
    this.queuedNote.replaceChildren();
    this.queuedNote.hidden = this.queued === undefined;
    if (this.queued !== undefined) {
      this.queuedNote.append(element('span', {}, `Queued: ${this.queued}`), button('Cancel', () => this.cancelQueued(), { class: 'link', id: 'cancel-queued' }));
    }
    this.notice.replaceChildren();
    if (this.backend.kind === 'remote' && this.backend.problem) {
      this.notice.className = 'notice remote problem';
      this.notice.append(element('strong', {}, 'Remote endpoint not usable: '), document.createTextNode(`${this.backend.problem} `));
      this.notice.append(button(FIX_LABELS.configureBackend, () => vscode.postMessage({ type: 'fix', action: 'configureBackend' }), { class: 'link' }));
    } else if (this.backend.kind === 'remote') {
      this.notice.className = 'notice remote';
      this.notice.append(element('strong', {}, 'Remote endpoint: '), document.createTextNode(`your questions and passages from your docs are sent to ${this.backend.host ?? 'a remote server'}.`));
    } else if (this.backend.kind === 'editor') {
      this.notice.className = 'notice remote';
      this.notice.append(element('strong', {}, 'Editor model: '), document.createTextNode(`answers are written by ${this.backend.host ?? "the editor's model"}; your questions and passages from your docs go to its provider.`));
    } else if (this.backend.kind === 'local') {
      this.notice.className = 'notice';
      this.notice.textContent = 'Answers are generated by the local server on this machine; nothing leaves it.';
    } else {
      this.notice.className = 'notice';
      this.notice.append(document.createTextNode('No answer model is configured: Docent shows the most relevant passages. '));
      this.notice.append(button(FIX_LABELS.configureBackend, () => vscode.postMessage({ type: 'fix', action: 'configureBackend' }), { class: 'link', id: 'configure-backend' }));
    }
    this.renderIndexBar();
    this.empty.hidden = this.turns.length > 0;
    if (this.turns.length === 0) this.renderEmpty();
  }

  /**
   * Shown while a run indexes or is paused, and while the index covers only part of the
   * workspace. Updated in place (several times a second while indexing), so its buttons stay
   * the same elements under the pointer.
   */
  private renderIndexBar(): void {
    const { state, percent = 0, partial, step } = this.index;
    const bar = this.indexBar;
    bar.hidden = !(state === 'indexing' || state === 'paused' || partial);
    bar.className = `index-bar ${state}${partial ? ' partial' : ''}`;
    if (bar.hidden) return;
    const count = (n: number) => n.toLocaleString('en-US');
    const covered = partial && (partial.filesTotal === undefined ? `${count(partial.filesIndexed)} files` : `${count(partial.filesIndexed)} of ${count(partial.filesTotal)} files`);
    const missing = partial ? ' — answers may miss pages' : '';
    this.indexBarText.textContent =
      state === 'indexing'
        ? step === 'graph'
          ? `Building the vector graph (${percent}%)${missing}`
          : `${covered ? `Indexing: ${covered}` : 'Updating the index'} (${percent}%)${missing}`
        : state === 'paused'
          ? covered
            ? `Indexing paused at ${covered}${missing}.`
            : 'Indexing paused: changes to your docs are not indexed.'
          : `Index incomplete: ${covered}${missing}.`;
    this.pauseIndexing.hidden = state !== 'indexing';
    this.resumeIndexing.hidden = state !== 'paused';
    this.reindex.hidden = state === 'indexing' || state === 'paused';
    this.indexMeter.hidden = state !== 'indexing';
    this.indexMeter.setAttribute('aria-valuenow', String(percent));
    this.indexMeterFill.style.width = `${percent}%`;
  }

  private renderEmpty(): void {
    const index = this.index;
    // Progress and Pause/Resume are in the index bar above, as when the conversation has turns.
    const status =
      index.state === 'indexing' || index.state === 'paused'
        ? undefined
        : index.state === 'error'
            ? `Indexing failed: ${index.message ?? 'unknown error'}`
            : index.state === 'restricted'
              ? (index.message ?? 'Restricted mode.')
              : index.state === 'ready'
                ? `${index.files} files, ${index.chunks} passages indexed.`
                : 'Your docs are indexed when the editor is idle, or on your first question.';
    const list = element('ul', { class: 'examples', 'aria-label': 'Example questions' });
    for (const example of this.examples) {
      const item = element('li');
      item.append(button(example, () => vscode.postMessage({ type: 'ask', question: example }), { class: 'example' }));
      list.append(item);
    }
    this.empty.replaceChildren(element('h2', {}, 'Ask your documentation'), ...(status === undefined ? [] : [element('p', { class: 'index-status' }, status)]), list);
    if (index.state === 'error') this.empty.append(button(FIX_LABELS.reindex, () => vscode.postMessage({ type: 'fix', action: 'reindex' })));
  }

  private renderTurn(turn: ChatTurn): void {
    let node = this.turnNodes.get(turn.id);
    if (!node) {
      node = element('article', { class: 'turn', 'data-turn': turn.id });
      this.turnNodes.set(turn.id, node);
      this.log.append(node);
    }
    const question = element('div', { class: 'question' });
    question.append(element('span', { class: 'sr-only' }, 'You asked: '), document.createTextNode(turn.question));
    if (turn.selection) {
      const { path, startLine, endLine, languageId } = turn.selection;
      question.append(element('div', { class: 'selection-note' }, `Selection from ${path}${startLine === undefined ? '' : `:${startLine}-${endLine}`} (${languageId})`));
    }
    if (turn.searchedQuery && normalised(turn.searchedQuery) !== normalised(turn.question)) {
      question.append(element('div', { class: 'searched-note', title: 'The query Docent searched your docs with' }, `Searched: ${turn.searchedQuery}`));
    }

    const answer = element('div', {
      class: 'answer markdown',
      'aria-live': 'polite',
      'aria-busy': String(turn.state === 'streaming'),
      'aria-label': 'Answer',
    });
    const waiting = turn.state === 'streaming' && !turn.answer;
    if (waiting) answer.append(element('div', { class: 'progress' }, this.progress.get(turn.id) ?? '…'));
    else answer.innerHTML = renderMarkdown(turn.answer);
    // Its first paragraph is the notice saying how much of the workspace was indexed.
    if (turn.partialIndex && !waiting) answer.firstElementChild?.classList.add('index-notice');
    linkCitations(answer, turn.citations);
    markSourceLabels(answer);
    if (turn.suggestions) linkSuggestions(answer, turn.suggestions);
    if (turn.state !== 'streaming') addCodeActions(answer);

    const parts: HTMLElement[] = [question];
    if (turn.degradedReason) {
      const banner = element('div', { class: 'degraded', role: 'note' });
      banner.append(element('strong', {}, 'Extractive answer: '), document.createTextNode(`${turn.degradedReason} The text below is quoted from your docs, not generated.`));
      banner.append(this.actions(turn, turn.actions ?? []));
      parts.push(banner);
    }
    parts.push(answer);
    if (turn.state === 'error') {
      const error = element('div', { class: 'error', role: 'alert' });
      error.append(element('strong', {}, 'Docent could not answer. '), document.createTextNode(turn.error ?? ''), this.actions(turn, turn.actions ?? ['retry']));
      parts.push(error);
    }
    if (turn.state === 'stopped') parts.push(element('div', { class: 'stopped' }, 'Stopped.'));
    // Passages the answer quotes under their own [n] label (retrieval-only and extractive answers) are not listed again.
    const sources = turn.citations.filter((citation) => !quotes(turn.answer, citation));
    if (sources.length > 0) parts.push(this.sources(sources));
    const cited = new Set(turn.citations.map((citation) => citation.n));
    const passages = turn.passages ?? (turn.state === 'streaming' ? [] : turn.citations);
    // A "nothing answers this" turn offers headings instead: the passages under the floor are no answer.
    const others = turn.suggestions ? [] : passages.filter((passage) => !cited.has(passage.n));
    if (others.length > 0) parts.push(this.passageList(turn, others, others.length < passages.length, waiting));
    if (turn.state !== 'streaming' && turn.answer) {
      const footer = element('div', { class: 'turn-actions' });
      footer.append(button('Copy', () => vscode.postMessage({ type: 'copy', text: turn.answer }), { 'aria-label': 'Copy the answer' }));
      parts.push(footer);
    }
    const follow = this.atEnd();
    node.replaceChildren(...parts);
    if (follow) this.scrollToEnd();
  }

  /** Whether the reader is at the end of the conversation (then new text keeps it in view). */
  private atEnd(): boolean {
    const { scrollTop, scrollHeight, clientHeight } = this.scroller;
    return scrollHeight - scrollTop - clientHeight < 48;
  }

  private scrollToEnd(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /**
   * The passages retrieval found, shown as soon as it found them; once the answer cites some
   * (`more`), only the others, as the citations already show theirs.
   */
  private passageList(turn: ChatTurn, passages: LocatedCitation[], more: boolean, waiting: boolean): HTMLElement {
    const details = element('details', { class: 'passages' });
    details.open = this.passagesOpen.get(turn.id) ?? waiting;
    const count = `${passages.length}${more ? ' more' : ''} passage${passages.length === 1 ? '' : 's'}`;
    // Without a model nothing "used" the passages an answer does not quote: they were found.
    const found = turn.state === 'streaming' || turn.mode === 'retrieval-only';
    details.append(element('summary', {}, found ? `Found ${count}` : `Used ${count}`));
    // Setting `open` above fires a toggle event too; only the reader's own toggles are remembered.
    const initial = details.open;
    details.addEventListener('toggle', () => {
      if (details.open !== initial) this.passagesOpen.set(turn.id, details.open);
    });
    const list = element('ol', { class: 'passage-list', 'aria-label': 'Passages' });
    for (const passage of passages) {
      const item = element('li', { value: String(passage.n) });
      item.append(citationButton(passage, citationLocation(passage)));
      if (passage.heading) item.append(element('span', { class: 'heading' }, ` — ${passage.heading}`));
      list.append(item);
    }
    details.append(list);
    return details;
  }

  private actions(turn: ChatTurn, actions: FixAction[]): HTMLElement {
    const row = element('div', { class: 'fix-actions' });
    for (const action of actions) {
      row.append(
        button(FIX_LABELS[action], () =>
          vscode.postMessage(action === 'retry' ? { type: 'retry', id: turn.id } : { type: 'fix', action }),
        { 'data-action': action },
        ),
      );
    }
    return row;
  }

  private sources(citations: LocatedCitation[]): HTMLElement {
    const list = element('ol', { class: 'sources', 'aria-label': 'Sources' });
    for (const citation of citations) {
      const item = element('li', { value: String(citation.n) });
      item.append(citationButton(citation, citationLocation(citation)));
      if (citation.heading) item.append(element('span', { class: 'heading' }, ` — ${citation.heading}`));
      list.append(item);
    }
    return list;
  }
}

/** Questions that differ only in spacing or case are the same search. */
function normalised(text: string): string {
  return text.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Whether the answer quotes the passage under its label line (`[n] path:start-end …`, core's sourceLabel). */
function quotes(answer: string, citation: LocatedCitation): boolean {
  const label = `[${citation.n}] `;
  const lines = `${citation.path}:${citation.startLine}-${citation.endLine}`;
  return answer.split('\n').some((line) => line.startsWith(label) && line.includes(lines));
}

/** `folder: path:start-end`, the folder only in multi-root workspaces (where the engine names it). */
function citationLocation(citation: LocatedCitation): string {
  return `${citation.folder ? `${citation.folder}: ` : ''}${citation.path}:${citation.startLine}-${citation.endLine}`;
}

/** The passage behind each citation button, for the preview. */
const citationOf = new WeakMap<HTMLElement, LocatedCitation>();

function citationButton(citation: LocatedCitation, label: string): HTMLButtonElement {
  const node = button(
    label,
    () => vscode.postMessage({ type: 'openCitation', folder: citation.folder, path: citation.path, startLine: citation.startLine, endLine: citation.endLine }),
    {
      class: 'cite',
      'data-cite': String(citation.n),
      'aria-label': `Source ${citation.n}: ${citation.folder ? `${citation.folder}, ` : ''}${citation.path}, lines ${citation.startLine} to ${citation.endLine}`,
    },
  );
  citationOf.set(node, citation);
  return node;
}

/**
 * The passage preview of a citation, styled like the editor's hover widget. It opens on hover
 * (after a short delay, as editor hovers do) and at once on keyboard focus, stays open while the
 * pointer is over it so its text can be selected, and closes on Escape. The passage is set as
 * text, never as markup.
 */
class CitationPreview {
  private static readonly SHOW_DELAY_MS = 300;
  private static readonly HIDE_DELAY_MS = 200;
  private readonly node = element('div', { class: 'citation-preview', id: 'citation-preview', role: 'tooltip', hidden: '' });
  private anchor: HTMLElement | undefined;
  private timer: number | undefined;

  constructor() {
    document.body.append(this.node);
    document.addEventListener('mouseover', (event) => {
      const cite = citeButtonOf(event.target);
      if (cite) this.schedule(() => this.show(cite), CitationPreview.SHOW_DELAY_MS);
      else if (this.node.contains(event.target as Node)) this.cancel();
    });
    document.addEventListener('mouseout', (event) => {
      if (citeButtonOf(event.target) || this.node.contains(event.target as Node)) this.schedule(() => this.hide(), CitationPreview.HIDE_DELAY_MS);
    });
    document.addEventListener('focusin', (event) => {
      const cite = citeButtonOf(event.target);
      if (cite) this.show(cite);
      else this.hide();
    });
    document.addEventListener('scroll', () => this.hide(), true);
  }

  get visible(): boolean {
    return !this.node.hidden;
  }

  show(cite: HTMLElement): void {
    this.cancel();
    const citation = citationOf.get(cite);
    if (!citation || !cite.isConnected) return;
    this.anchor?.removeAttribute('aria-describedby');
    this.anchor = cite;
    cite.setAttribute('aria-describedby', this.node.id);
    const header = element('div', { class: 'preview-header' });
    header.append(element('span', { class: 'preview-path' }, citationLocation(citation)));
    if (citation.heading) header.append(element('span', { class: 'preview-heading' }, citation.heading));
    const text = citation.text.length > PREVIEW_CHARS ? `${citation.text.slice(0, PREVIEW_CHARS)}…` : citation.text;
    this.node.replaceChildren(header, element('div', { class: 'preview-text' }, text || '(empty passage)'));
    this.node.hidden = false;
    this.place(cite);
  }

  /** A re-render replaced the citation the preview points at. */
  hideIfDetached(): void {
    if (this.anchor && !this.anchor.isConnected) this.hide();
  }

  hide(): void {
    this.cancel();
    this.node.hidden = true;
    this.anchor?.removeAttribute('aria-describedby');
    this.anchor = undefined;
  }

  /** Below the citation when it fits, otherwise above; always inside the view. */
  private place(cite: HTMLElement): void {
    const margin = 4;
    const box = cite.getBoundingClientRect();
    const { offsetWidth: width, offsetHeight: height } = this.node;
    const below = box.bottom + margin + height <= window.innerHeight;
    const top = below ? box.bottom + margin : Math.max(margin, box.top - margin - height);
    const left = Math.min(Math.max(margin, box.left), Math.max(margin, window.innerWidth - width - margin));
    this.node.style.top = `${Math.round(top)}px`;
    this.node.style.left = `${Math.round(left)}px`;
  }

  private schedule(action: () => void, delayMs: number): void {
    this.cancel();
    this.timer = window.setTimeout(action, delayMs);
  }

  private cancel(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function citeButtonOf(target: EventTarget | null): HTMLElement | undefined {
  return target instanceof Element ? ((target.closest('button.cite') as HTMLElement | null) ?? undefined) : undefined;
}

/** Copy and Insert at Cursor on every code block of a finished answer. */
function addCodeActions(root: HTMLElement): void {
  for (const pre of Array.from(root.querySelectorAll('pre'))) {
    const code = pre.textContent ?? '';
    const bar = element('div', { class: 'code-actions' });
    bar.append(
      button('Copy', () => vscode.postMessage({ type: 'copy', text: code }), { 'data-action': 'copy-code', 'aria-label': 'Copy the code' }),
      button('Insert at Cursor', () => vscode.postMessage({ type: 'insert', text: code }), { 'data-action': 'insert-code', 'aria-label': 'Insert the code at the cursor in the editor' }),
    );
    const block = element('div', { class: 'code-block' });
    pre.replaceWith(block);
    block.append(bar, pre);
  }
}

/** The label paragraph (`[n] path:lines (heading)`) above each passage a retrieval-only or extractive answer quotes, styled as its caption. */
function markSourceLabels(root: HTMLElement): void {
  for (const paragraph of Array.from(root.querySelectorAll('p'))) {
    const citation = citationOf.get(paragraph.firstElementChild as HTMLElement);
    if (citation && quotes(paragraph.textContent ?? '', citation)) paragraph.classList.add('source-label');
  }
}

/** The not-found answer's list of closest headings: each item asks about that heading. */
function linkSuggestions(root: HTMLElement, suggestions: string[]): void {
  for (const item of Array.from(root.querySelectorAll('li'))) {
    const heading = item.textContent?.trim() ?? '';
    if (!suggestions.includes(heading)) continue;
    item.replaceChildren(button(heading, () => vscode.postMessage({ type: 'ask', question: heading }), { class: 'link suggestion', title: 'Ask about this' }));
  }
}

/** Turns `[n]` in the rendered answer (outside code) into buttons that open source n. */
function linkCitations(root: HTMLElement, citations: LocatedCitation[]): void {
  if (citations.length === 0) return;
  const byNumber = new Map(citations.map((citation) => [citation.n, citation]));
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts: Text[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!(node.parentElement?.closest('code, pre')) && /\[\d+\]/.test(node.nodeValue ?? '')) texts.push(node as Text);
  }
  for (const text of texts) {
    const fragment = document.createDocumentFragment();
    let last = 0;
    const value = text.nodeValue ?? '';
    for (const match of value.matchAll(/\[(\d+)\]/g)) {
      const citation = byNumber.get(Number(match[1]));
      if (!citation) continue;
      fragment.append(document.createTextNode(value.slice(last, match.index)), citationButton(citation, `[${citation.n}]`));
      last = match.index! + match[0].length;
    }
    fragment.append(document.createTextNode(value.slice(last)));
    text.replaceWith(fragment);
  }
}

const preview = new CitationPreview();
new ChatApp(document.getElementById('app')!);
