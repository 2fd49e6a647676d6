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
  configureEndpoint: 'Configure endpoint',
  retry: 'Retry',
  startLocalServer: 'Start local server',
  reindex: 'Reindex workspace',
};

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
  private renderScheduled = false;

  private readonly notice = element('div', { class: 'notice', id: 'privacy-notice' });
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
  private readonly stop = button('Stop', () => this.stopStreaming(), { id: 'stop', 'aria-label': 'Stop the answer' });

  constructor(root: HTMLElement) {
    const toolbar = element('div', { class: 'toolbar' });
    toolbar.append(button('New chat', () => vscode.postMessage({ type: 'newChat' }), { id: 'new-chat' }));
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
      if (event.key !== 'Escape') return;
      // Escape closes an open preview first, as it closes an editor hover.
      if (preview.visible) preview.hide();
      else if (this.streamingTurn()) this.stopStreaming();
    });
    const actions = element('div', { class: 'composer-actions' });
    actions.append(this.stop, this.send);
    composer.append(this.input, actions);
    root.append(toolbar, this.notice, this.empty, this.log, this.status, composer);
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
        this.log.replaceChildren();
        this.turnNodes.clear();
        for (const turn of this.turns) this.renderTurn(turn);
        break;
      case 'index':
        this.index = message.index;
        break;
      case 'backend':
        this.backend = message.backend;
        break;
      case 'turnStarted':
        this.turns.push(message.turn);
        this.renderTurn(message.turn);
        this.announce('Docent is answering…');
        break;
      case 'delta': {
        const turn = this.turn(message.id);
        if (!turn) return;
        turn.answer += message.text;
        this.scheduleRender(turn.id);
        return;
      }
      case 'sources': {
        const turn = this.turn(message.id);
        if (!turn) return;
        turn.citations = message.citations;
        this.scheduleRender(turn.id);
        return;
      }
      case 'done':
        this.finish(message.id, { state: 'done', mode: message.mode, degradedReason: message.degradedReason, actions: message.actions });
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
      case 'cleared':
        this.turns = [];
        this.log.replaceChildren();
        this.turnNodes.clear();
        this.input.focus();
        break;
    }
    this.renderChrome();
  }

  private turn(id: string): ChatTurn | undefined {
    return this.turns.find((turn) => turn.id === id);
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
    if (!question || this.streamingTurn()) return;
    this.input.value = '';
    vscode.postMessage({ type: 'ask', question });
  }

  private stopStreaming(): void {
    const turn = this.streamingTurn();
    if (turn) vscode.postMessage({ type: 'stop', id: turn.id });
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
    this.send.disabled = streaming;
    this.notice.replaceChildren();
    if (this.backend.kind === 'remote') {
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
      this.notice.append(button('Configure endpoint', () => vscode.postMessage({ type: 'fix', action: 'configureEndpoint' }), { class: 'link' }));
    }
    this.empty.hidden = this.turns.length > 0;
    if (this.turns.length === 0) this.renderEmpty();
  }

  private renderEmpty(): void {
    const index = this.index;
    const status =
      index.state === 'indexing'
        ? `Indexing your docs… ${index.percent ?? 0}% (${index.files} files so far)`
        : index.state === 'paused'
          ? `Indexing paused at ${index.files} files.`
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
    this.empty.replaceChildren(element('h2', {}, 'Ask your documentation'), element('p', { class: 'index-status' }, status), list);
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
    if (turn.selection) question.append(element('div', { class: 'selection-note' }, `Selection from ${turn.selection.path} (${turn.selection.languageId})`));

    const answer = element('div', {
      class: 'answer markdown',
      'aria-live': 'polite',
      'aria-busy': String(turn.state === 'streaming'),
      'aria-label': 'Answer',
    });
    answer.innerHTML = renderMarkdown(turn.answer || (turn.state === 'streaming' ? '…' : ''));
    linkCitations(answer, turn.citations);

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
    if (turn.citations.length > 0) parts.push(this.sources(turn.citations));
    if (turn.state !== 'streaming' && turn.answer) {
      const footer = element('div', { class: 'turn-actions' });
      footer.append(button('Copy', () => vscode.postMessage({ type: 'copy', text: turn.answer }), { 'aria-label': 'Copy the answer' }));
      parts.push(footer);
    }
    node.replaceChildren(...parts);
    node.scrollIntoView({ block: 'end' });
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
