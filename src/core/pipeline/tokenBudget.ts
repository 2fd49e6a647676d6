/** Token budgets: the estimate prompts are counted with, and cutting text to fit. */
import { estimateTokens } from '../tokenEstimate.js';
import type { TokenCounter } from './types.js';

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
