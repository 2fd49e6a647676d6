/**
 * The chat's past conversations of one workspace, kept in its workspace state: the current one
 * and up to MAX_CONVERSATIONS others, each with its turns. New chat starts another and keeps the
 * old; open, rename, delete and export work on any. No vscode import (a Memento is two methods),
 * so it is tested as plain code.
 */
import type { ChatTurn } from '../shared/chatProtocol.js';
import { storedTurn } from './storedTurns.js';

export interface Conversation {
  id: string;
  title: string;
  /** Epoch ms of the last question (or of creation). */
  updatedAt: number;
  turns: ChatTurn[];
}

export interface StateStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

const KEY = 'docent.chat.conversations';
/** Before conversations: one list of turns. */
const LEGACY_TURNS_KEY = 'docent.chat.turns';
const MAX_CONVERSATIONS = 50;
const MAX_TURNS = 50;
const MAX_TITLE = 80;

interface Stored {
  currentId: string;
  conversations: Conversation[];
}

export class Conversations {
  private readonly list: Conversation[];
  private currentId: string;
  private nextId = Date.now();

  constructor(private readonly state: StateStore) {
    const stored = state.get<Stored>(KEY);
    const legacy = state.get<ChatTurn[]>(LEGACY_TURNS_KEY) ?? [];
    this.list = stored?.conversations.map((conversation) => ({ ...conversation, turns: conversation.turns.map((turn) => storedTurn(interrupted(turn))) })) ?? [];
    if (this.list.length === 0) this.list.push(this.fresh(legacy.map((turn) => storedTurn(interrupted(turn)))));
    this.currentId = this.list.some((conversation) => conversation.id === stored?.currentId) ? stored!.currentId : this.list[0]!.id;
  }

  get current(): Conversation {
    return this.list.find((conversation) => conversation.id === this.currentId)!;
  }

  /** Most recently used first. */
  all(): readonly Conversation[] {
    return [...this.list].sort((a, b) => b.updatedAt - a.updatedAt);
  }

  /** Starts an empty conversation unless the current one is empty already; the old one is kept. */
  startNew(): Conversation {
    if (this.current.turns.length > 0) {
      const created = this.fresh([]);
      this.list.push(created);
      this.currentId = created.id;
      this.trim();
    }
    this.save();
    return this.current;
  }

  open(id: string): Conversation | undefined {
    if (!this.list.some((conversation) => conversation.id === id)) return undefined;
    this.currentId = id;
    this.save();
    return this.current;
  }

  rename(id: string, title: string): void {
    const conversation = this.list.find((candidate) => candidate.id === id);
    const tidy = title.trim().slice(0, MAX_TITLE);
    if (!conversation || !tidy) return;
    conversation.title = tidy;
    this.save();
  }

  /** Deleting the current conversation opens the most recent other one (or a new, empty one). */
  delete(id: string): void {
    const index = this.list.findIndex((conversation) => conversation.id === id);
    if (index < 0) return;
    this.list.splice(index, 1);
    if (this.list.length === 0) this.list.push(this.fresh([]));
    if (this.currentId === id) this.currentId = this.all()[0]!.id;
    this.save();
  }

  /** A turn of the current conversation was added or changed. */
  touched(turn: ChatTurn): void {
    const conversation = this.current;
    if (!conversation.title) conversation.title = titleOf(turn.question);
    conversation.updatedAt = Date.now();
    if (conversation.turns.length > MAX_TURNS) conversation.turns.splice(0, conversation.turns.length - MAX_TURNS);
    this.save();
  }

  save(): void {
    // Stored within the protocol's bounds (storedTurns.ts), so every reload's init validates.
    void this.state.update(KEY, { currentId: this.currentId, conversations: this.list.map((conversation) => ({ ...conversation, turns: conversation.turns.map(storedTurn) })) } satisfies Stored);
    void this.state.update(LEGACY_TURNS_KEY, undefined);
  }

  private fresh(turns: ChatTurn[]): Conversation {
    return { id: `c${this.nextId++}`, title: turns[0] ? titleOf(turns[0].question) : '', updatedAt: Date.now(), turns };
  }

  private trim(): void {
    while (this.list.length > MAX_CONVERSATIONS) {
      const oldest = [...this.list].sort((a, b) => a.updatedAt - b.updatedAt).find((conversation) => conversation.id !== this.currentId)!;
      this.list.splice(this.list.indexOf(oldest), 1);
    }
  }
}

/** A reload interrupts whatever was streaming. */
function interrupted(turn: ChatTurn): ChatTurn {
  return turn.state === 'streaming' ? { ...turn, state: 'stopped' } : turn;
}

function titleOf(question: string): string {
  const line = question.replace(/\s+/g, ' ').trim();
  return line.length > MAX_TITLE ? `${line.slice(0, MAX_TITLE - 1)}…` : line;
}

/** The conversation as a Markdown document: questions as headings, answers as they were shown, sources as lines. */
export function conversationMarkdown(conversation: Conversation): string {
  const parts = [`# ${conversation.title || 'Docent conversation'}`, ''];
  for (const turn of conversation.turns) {
    parts.push(`## ${turn.question.replace(/\n+/g, ' ')}`, '');
    if (turn.answer) parts.push(turn.answer.trim(), '');
    if (turn.state === 'error') parts.push(`> Docent could not answer: ${turn.error ?? ''}`, '');
    if (turn.state === 'stopped') parts.push('_Stopped._', '');
    const sources = turn.citations.length > 0 ? turn.citations : (turn.passages ?? []);
    if (sources.length > 0) {
      parts.push('Sources:', '');
      for (const source of sources) parts.push(`${source.n}. ${source.folder ? `${source.folder}: ` : ''}${source.path}:${source.startLine}-${source.endLine}${source.heading ? ` (${source.heading})` : ''}`);
      parts.push('');
    }
  }
  return `${parts.join('\n').trimEnd()}\n`;
}
