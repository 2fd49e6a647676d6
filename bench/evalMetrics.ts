/** The file-level retrieval metric of ../shared/eval/README.md, shared by every system compared. */

export interface EvalQuestion {
  q: string;
  rel: string[];
}

export interface EvalScores {
  recallAt5: number;
  mrrAt10: number;
  /** Per question: 1-based rank of the first relevant file, 0 when not in the first 10 files. */
  ranks: number[];
}

/** Walks ranked chunk paths, keeping each file's first occurrence, up to 10 distinct files. */
export function distinctFiles(rankedPaths: Iterable<string>, limit = 10): string[] {
  const files: string[] = [];
  for (const file of rankedPaths) {
    if (!files.includes(file)) files.push(file);
    if (files.length >= limit) break;
  }
  return files;
}

export function scoreRankings(questions: EvalQuestion[], rankedFilesPerQuestion: string[][]): EvalScores {
  const ranks = questions.map((question, i) => {
    const files = rankedFilesPerQuestion[i]!.slice(0, 10);
    const index = files.findIndex((file) => question.rel.includes(file));
    return index < 0 ? 0 : index + 1;
  });
  const recallAt5 = ranks.filter((rank) => rank >= 1 && rank <= 5).length / questions.length;
  const mrrAt10 = ranks.reduce((sum, rank) => sum + (rank ? 1 / rank : 0), 0) / questions.length;
  return { recallAt5, mrrAt10, ranks };
}

export function percentile(sortedOrUnsorted: number[], p: number): number {
  if (sortedOrUnsorted.length === 0) return NaN;
  const sorted = [...sortedOrUnsorted].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}
