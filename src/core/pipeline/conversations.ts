/** Conversation state (bounded, idle-expiring) and rewriting follow-ups into standalone queries. */
import { LRUCache } from 'lru-cache';
import { boundHistory } from './prompt.js';
import { truncateToTokens } from './tokenBudget.js';
import type { TokenCounter, Turn } from './types.js';

export class ConversationHistory {
  private readonly conversations: LRUCache<string, Turn[]>;

  constructor(
    maxConversations: number,
    idleMs: number,
    private readonly maxTurns: number,
    private readonly maxTokens: number,
    private readonly counter: TokenCounter,
  ) {
    // Reading a conversation refreshes its TTL, so it expires after `idleMs` without use.
    this.conversations = new LRUCache<string, Turn[]>({ max: maxConversations, ttl: idleMs, updateAgeOnGet: true });
  }

  get size(): number {
    return this.conversations.size;
  }

  turns(conversationId: string): Turn[] {
    return this.conversations.get(conversationId) ?? [];
  }

  append(conversationId: string, question: string, answer: string): void {
    // A long answer is shortened so it cannot push its own question out of the token budget.
    const kept = truncateToTokens(answer, Math.floor(this.maxTokens / 2), this.counter);
    const turns = [...this.turns(conversationId), { role: 'user' as const, content: question }, { role: 'assistant' as const, content: kept }];
    this.conversations.set(conversationId, boundHistory(turns, this.maxTurns, this.maxTokens, this.counter));
  }
}

const LEADING_CONNECTOR = /^(?:and|but|also|so|then|ok(?:ay)?|what about|how about|and what about|and how about)\b[\s,]*/i;
const REFERRING_WORD = /\b(?:it|its|that|this|those|these|they|them|there|same|one|ones)\b/i;

/** Whether `question` leans on earlier turns rather than standing alone. */
export function looksLikeFollowUp(question: string): boolean {
  const words = question.split(/\s+/).filter(Boolean);
  return LEADING_CONNECTOR.test(question) || REFERRING_WORD.test(question) || words.length <= 3;
}

/**
 * Heuristic standalone query: the previous question followed by the follow-up's own words, so
 * "How do I configure backups?" + "and for replicas?" retrieves for
 * "How do I configure backups for replicas?". Keyword retrieval needs both halves.
 */
export function rewriteFollowUpHeuristically(question: string, history: readonly Turn[]): string {
  const previous = [...history].reverse().find((turn) => turn.role === 'user');
  if (!previous || !looksLikeFollowUp(question)) return question;
  const base = previous.content.trim().replace(/[?.!\s]+$/u, '');
  const addition = question.replace(LEADING_CONNECTOR, '').trim();
  return addition ? `${base} ${addition}` : `${base}?`;
}

export const REWRITE_SYSTEM_PROMPT =
  'Rewrite the last user message into one standalone search query about the documentation, ' +
  'resolving references to earlier turns. Reply with the query only.';
