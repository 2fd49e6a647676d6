/**
 * Example questions for an empty chat, drawn from the workspace's own headings: headings that
 * already are questions (FAQ entries) first, then "What does “<title>” cover?" for the pages
 * with the most passages. Deterministic for one index, so the empty view does not reshuffle.
 */
import type { Chunk } from '../types.js';

const MAX_LENGTH = 90;

export function exampleQuestions(chunks: Iterable<Readonly<Pick<Chunk, 'path' | 'title' | 'headingPath'>>>, count = 3): string[] {
  const pages = new Map<string, { title: string; passages: number }>();
  /** Question headings by lower-cased text, with the page they came from. */
  const asked = new Map<string, { text: string; path: string }>();
  for (const chunk of chunks) {
    const page = pages.get(chunk.path) ?? { title: chunk.title.trim(), passages: 0 };
    page.passages++;
    pages.set(chunk.path, page);
    for (const heading of chunk.headingPath) {
      const text = heading.replace(/\s+/g, ' ').trim();
      if (/^(how|what|where|when|why|which|who|can|do|does|is|are|should)\b.*\?$/i.test(text) && text.length <= MAX_LENGTH && !asked.has(text.toLowerCase())) {
        asked.set(text.toLowerCase(), { text, path: chunk.path });
      }
    }
  }
  const chosen = [...asked.values()].sort((a, b) => a.text.localeCompare(b.text)).slice(0, Math.min(2, count));
  const questions = chosen.map(({ text }) => text);
  // A page that gave a question is not asked about again as a whole.
  const used = new Set(chosen.map(({ path }) => path));
  const ranked = [...pages.entries()].sort(([pathA, a], [pathB, b]) => b.passages - a.passages || pathA.localeCompare(pathB));
  for (const [path, page] of ranked) {
    if (questions.length >= count) break;
    if (used.has(path) || !page.title || page.title.length > MAX_LENGTH - 20) continue;
    const question = `What does “${page.title}” cover?`;
    if (!questions.includes(question)) questions.push(question);
  }
  return questions;
}
