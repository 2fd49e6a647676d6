/** Conversation state (bounded, idle-expiring) and rewriting follow-ups into standalone queries. */
import { LRUCache } from 'lru-cache';
import { keywordTokens } from '../search/tokenize.js';
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
/** Words that point back at an earlier turn; "same" only as a word of its own ("same-site" is a name). */
const REFERRING_WORDS = new Set(['it', 'its', 'that', 'this', 'those', 'these', 'they', 'them', 'their', 'same', 'one', 'ones']);
/** "it"/"this"/"that" that refer to nothing: "is it possible to…", "what does it mean when…", "this project", "a role that can…". */
const NON_REFERRING = /\b(?:is|isn't|was|would|will) it (?:possible|safe|ok|okay|better|worth|necessary|normal|true|a good idea|bad)\b|\bwhat does it mean\b|\bhow long does it take\b|\bit(?: is|'s) (?:possible|safe|recommended|necessary|better)\b|\b(?:this|our|the) (?:project|repo|repository|codebase|workspace|documentation|docs|manual)\b|\b(?:a|an|the|every|any) [\p{L}_-]+ that\b/giu;
/** A fragment that modifies the previous question: "In reverse order?", "with a foreign key?". */
const LEADING_PREPOSITION = /^(?:in|with|without|for|on|from|to|via|by|using|inside|under|over|instead of|per)\b/i;
/** Words that ask for more of the same answer rather than name a subject. */
const GENERIC_WORDS = new Set([
  'why', 'example', 'examples', 'more', 'detail', 'details', 'explain', 'elaborate', 'again', 'another', 'else', 'show', 'tell',
  'give', 'sample', 'code', 'please', 'really', 'sure', 'thanks', 'continue', 'go', 'on', 'further', 'one', 'other', 'options', 'mean',
]);
/** With a referring word, a question naming at most this many words of its own leans on the previous turn. */
const MAX_OWN_WORDS_WHEN_REFERRING = 3;

/**
 * Whether `question` leans on earlier turns rather than standing alone: it opens with a
 * connector ("and for replicas?"), it is a fragment opening with a preposition ("in reverse
 * order?") or a lone adverb ("recursively?"), it names nothing but asks for more ("why?",
 * "Can you give an example?"), or it points back ("How do I restore it?") while naming too few
 * words of its own to stand alone. "How do I delete a file that is still open?" names enough.
 */
export function looksLikeFollowUp(question: string): boolean {
  const text = question.trim();
  if (LEADING_CONNECTOR.test(text)) return true;
  const words = (text.toLowerCase().match(/[\p{L}\p{N}_'][\p{L}\p{N}_'.:+#-]*/gu) ?? []).map((w) => w.replace(/[.:]+$/, ''));
  if (words.length === 0) return false;
  if (words.length <= 4 && LEADING_PREPOSITION.test(text)) return true;
  if (words.length === 1 && /ly$/.test(words[0]!)) return true;
  const own = words.filter((w) => !REFERRING_WORDS.has(w) && isContentWord(w));
  if (own.every((w) => GENERIC_WORDS.has(w))) return true;
  const referring = text.replace(NON_REFERRING, ' ').toLowerCase().match(/[\p{L}\p{N}_'-]+/gu)?.some((w) => REFERRING_WORDS.has(w)) ?? false;
  return referring && own.length <= MAX_OWN_WORDS_WHEN_REFERRING;
}

/** A word that names something (not a stop word such as "how", "do", "the"). */
function isContentWord(word: string): boolean {
  return keywordTokens(word).length > 0;
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
