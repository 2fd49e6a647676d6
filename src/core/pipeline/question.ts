/** Question normalisation: what retrieval and the model see, and what the answer cache keys on. */

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
