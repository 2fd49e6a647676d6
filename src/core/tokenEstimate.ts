/** Rough BPE token count: about 4 characters per token for English prose and code; good enough for a budget. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
