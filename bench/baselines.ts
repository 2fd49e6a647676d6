/**
 * The peers Docent is compared with in bench:retrieval, built exactly as ../shared/eval/README.md
 * describes its baselines: whole files split into 40-line chunks every 30 lines, HTML tags stripped.
 */
import MiniSearch from 'minisearch';

export interface LineChunk {
  id: number;
  path: string;
  text: string;
}

export function stripHtmlTags(text: string): string {
  return text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export function fortyLineChunks(files: { path: string; text: string }[]): LineChunk[] {
  const chunks: LineChunk[] = [];
  for (const file of files) {
    const lines = (file.path.endsWith('.html') ? stripHtmlTags(file.text) : file.text).split('\n');
    for (let start = 0; start < Math.max(1, lines.length); start += 30) {
      chunks.push({ id: chunks.length, path: file.path, text: lines.slice(start, start + 40).join('\n') });
      if (start + 40 >= lines.length) break;
    }
  }
  return chunks;
}

/** MiniSearch 7 with its library defaults (BM25+), the library peer. */
export class MiniSearchBaseline {
  private readonly engine = new MiniSearch<LineChunk>({ fields: ['text'], storeFields: ['path'] });

  constructor(private readonly chunks: LineChunk[]) {
    this.engine.addAll(chunks);
  }

  rankPaths(query: string): string[] {
    return this.engine.search(query).map((result) => this.chunks[result.id as number]!.path);
  }
}

/** Plain Okapi BM25 (k1 1.2, b 0.75) over lowercase word tokens: the textbook reference. */
export class OkapiBm25Baseline {
  private readonly postings = new Map<string, Map<number, number>>();
  private readonly lengths: number[] = [];
  private readonly averageLength: number;

  constructor(private readonly chunks: LineChunk[]) {
    let total = 0;
    for (const chunk of chunks) {
      const words = wordsOf(chunk.text);
      this.lengths[chunk.id] = words.length;
      total += words.length;
      for (const word of words) {
        let list = this.postings.get(word);
        if (!list) this.postings.set(word, (list = new Map()));
        list.set(chunk.id, (list.get(chunk.id) ?? 0) + 1);
      }
    }
    this.averageLength = total / Math.max(1, chunks.length);
  }

  rankPaths(query: string): string[] {
    const scores = new Map<number, number>();
    const n = this.chunks.length;
    for (const word of new Set(wordsOf(query))) {
      const list = this.postings.get(word);
      if (!list) continue;
      const idf = Math.log(1 + (n - list.size + 0.5) / (list.size + 0.5));
      for (const [id, tf] of list) {
        const norm = tf + 1.2 * (1 - 0.75 + (0.75 * this.lengths[id]!) / this.averageLength);
        scores.set(id, (scores.get(id) ?? 0) + (idf * tf * 2.2) / norm);
      }
    }
    return [...scores]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 200)
      .map(([id]) => this.chunks[id]!.path);
  }
}

function wordsOf(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}
