/** Question normalisation and token estimates. */
import { estimateTokens } from '../tokenEstimate.js';
import type { TokenCounter } from './types.js';

/** The question as sent to retrieval and the model: whitespace collapsed, trimmed. */
export function tidyQuestion(question: string): string {
  return question.replace(/\s+/g, ' ').trim();
}

/**
 * The question as the answer cache sees it: case, Unicode form, spacing and trailing
 * punctuation do not change an answer, so "How do I X?" and "how do i x" share one entry.
 */
export function normaliseQuestion(question: string): string {
  return tidyQuestion(question.normalize('NFKC').toLowerCase()).replace(/[\s?.!]+$/u, '');
}

export const estimatedTokenCounter: TokenCounter = { count: estimateTokens };

/** The longest prefix of `text` that fits in `tokens`, cut at a word boundary when one is near. */
export function truncateToTokens(text: string, tokens: number, counter: TokenCounter): string {
  if (tokens <= 0) return '';
  if (counter.count(text) <= tokens) return text;
  const budget = tokens - counter.count('…');
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (counter.count(text.slice(0, mid)) <= budget) low = mid;
    else high = mid - 1;
  }
  if (low === 0) return '';
  const cut = text.slice(0, low);
  const space = cut.lastIndexOf(' ');
  return `${space > low * 0.8 ? cut.slice(0, space) : cut}…`;
}
