/**
 * bench:retrieval — file-level recall@5 and MRR@10 (../shared/eval/README.md) on the PostgreSQL
 * and Node.js evaluation sets, side by side in one run: Docent (hybrid and keyword-only),
 * MiniSearch over 40-line chunks (the library peer) and plain Okapi BM25 over the same chunks.
 * Also index time and query latency percentiles. Corpora are fetched with the scripts in
 * ../shared/eval into .cache/ (needs apt); without ../shared the bench says so and stops.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createDefaultEmbedder } from '../src/core/embedding/defaultEmbedder.js';
import { HashingEmbedder } from '../src/core/embedding/hashingEmbedder.js';
import { DEFAULT_CHUNKING, type ChunkingOptions } from '../src/core/chunker.js';
import { DEFAULT_KEYWORD_OPTIONS, type KeywordIndexOptions } from '../src/core/search/keywordIndex.js';
import type { FusionOptions } from '../src/core/search/hybrid.js';
import type { Embedder } from '../src/core/types.js';
import { Workspace } from '../src/core/workspace/workspace.js';
import { fortyLineChunks, MiniSearchBaseline, OkapiBm25Baseline } from './baselines.js';
import { corpusCitations } from './citations.js';
import { distinctFiles, percentile, scoreRankings, type EvalQuestion } from './evalMetrics.js';
import { writeResults, formatTable } from './report.js';

const ROOT = path.resolve(__dirname, '..');
const SHARED_EVAL = path.resolve(ROOT, '..', 'shared', 'eval');

export interface EvalSet {
  name: string;
  questions: EvalQuestion[];
  corpus: string;
}

export async function loadEvalSets(): Promise<EvalSet[] | string> {
  if (!existsSync(SHARED_EVAL)) return `../shared/eval not found beside the project (${SHARED_EVAL})`;
  const sets: EvalSet[] = [];
  for (const [name, script] of [
    ['postgres', 'get-postgres-docs.sh'],
    ['nodejs', 'get-nodejs-docs.sh'],
  ] as const) {
    const dest = path.join(ROOT, '.cache', `${name}-docs`);
    if (!existsSync(path.join(dest, '.done'))) execFileSync('bash', [path.join(SHARED_EVAL, script), dest], { stdio: ['ignore', 'ignore', 'inherit'] });
    const questions = JSON.parse(await fs.readFile(path.join(SHARED_EVAL, `${name}-questions.json`), 'utf8')) as EvalQuestion[];
    sets.push({ name, questions, corpus: dest });
  }
  return sets;
}

interface SystemResult {
  set: string;
  system: string;
  recallAt5: number;
  mrrAt10: number;
  indexSeconds: number;
  queryP50Ms: number;
  queryP99Ms: number;
}

async function timeQueries(questions: EvalQuestion[], rank: (q: string) => Promise<string[]> | string[]) {
  const rankings: string[][] = [];
  const latencies: number[] = [];
  for (const question of questions) {
    const started = performance.now();
    const paths = await rank(question.q);
    latencies.push(performance.now() - started);
    rankings.push(distinctFiles(paths));
  }
  return { rankings, latencies };
}

export interface DocentVariant {
  name: string;
  embedder?: Embedder;
  fusion?: Partial<FusionOptions>;
  keyword?: KeywordIndexOptions;
  chunking?: ChunkingOptions;
}

/** Ablations behind the defaults (`--study`): each changes one thing from the default (GloVe-SIF hybrid). */
function studyVariants(embedder: Embedder): DocentVariant[] {
  const variants: DocentVariant[] = [
    { name: 'study: no title/headings in index', keyword: { ...DEFAULT_KEYWORD_OPTIONS, titleWeight: 0, headingWeight: 0 } },
    { name: 'study: no page-level evidence', fusion: { fileWeight: 0 } },
    { name: 'study: page evidence weight 0.4', fusion: { fileWeight: 0.4 } },
    { name: 'study: page evidence weight 0.6', fusion: { fileWeight: 0.6 } },
    { name: 'study: BM25F k1 0.9', keyword: { ...DEFAULT_KEYWORD_OPTIONS, k1: 0.9 } },
    { name: 'study: BM25F k1 1.5', keyword: { ...DEFAULT_KEYWORD_OPTIONS, k1: 1.5 } },
    { name: 'study: BM25F b 0.6', keyword: { ...DEFAULT_KEYWORD_OPTIONS, b: 0.6 } },
    { name: 'study: BM25F b 0.9', keyword: { ...DEFAULT_KEYWORD_OPTIONS, b: 0.9 } },
    { name: 'study: BM25F title+heading weight 4', keyword: { ...DEFAULT_KEYWORD_OPTIONS, titleWeight: 4, headingWeight: 4 } },
    { name: 'study: chunks 160 tokens', chunking: { ...DEFAULT_CHUNKING, maxTokens: 160 } },
    { name: 'study: chunks 400 tokens', chunking: { ...DEFAULT_CHUNKING, maxTokens: 400 } },
    { name: 'study: no page-level dense evidence (previous default)', fusion: { pageDenseWeight: 0 } },
    { name: 'study: page dense weight 0.05', fusion: { pageDenseWeight: 0.05 } },
    { name: 'study: page dense weight 0.2', fusion: { pageDenseWeight: 0.2 } },
    { name: 'study: page dense over top 10 passages', fusion: { pageDenseCandidates: 10 } },
    { name: 'study: page dense over top 30 passages', fusion: { pageDenseCandidates: 30 } },
    { name: 'study: page dense over top 100 passages', fusion: { pageDenseCandidates: 100 } },
    { name: 'study: page dense, no RRF vector ranking', fusion: { vectorWeight: 0 } },
    { name: 'study: hashing stand-in instead of GloVe', embedder: new HashingEmbedder() },
    { name: 'study: GloVe-SIF dense only', fusion: { keywordWeight: 0, vectorWeight: 1, pageDenseWeight: 0 } },
    { name: 'study: RRF k=60 w=0.5, no page dense', fusion: { rrfK: 60, vectorWeight: 0.5, pageDenseWeight: 0 } },
    { name: 'study: RRF k=60 w=0.2, no page dense', fusion: { rrfK: 60, vectorWeight: 0.2, pageDenseWeight: 0 } },
    { name: 'study: RRF k=10 w=0.3, no page dense', fusion: { vectorWeight: 0.3, pageDenseWeight: 0 } },
  ];
  // One change from the default: every row keeps the default model unless it names another.
  return variants.map((variant) => ({ embedder, ...variant }));
}

export async function evaluateDocent(
  set: EvalSet,
  variant: DocentVariant,
): Promise<SystemResult & { ranks: number[] }> {
  const storeDir = await fs.mkdtemp(path.join(tmpdir(), 'docent-bench-'));
  try {
    // Every variant shares the caller's embedder (loaded once), which the workspace leaves open.
    const workspace = await Workspace.open(
      {
        folders: [{ name: set.name, root: set.corpus, storeDir }],
        createStores: true,
        ...(variant.embedder ? {} : { embedder: 'none' }),
        indexing: { chunking: variant.chunking, exclude: ['.done'], defaultExcludes: false },
        search: { fusion: variant.fusion, keyword: variant.keyword },
      },
      { embedder: variant.embedder },
    );
    const started = performance.now();
    await workspace.index();
    const indexSeconds = (performance.now() - started) / 1000;
    const { rankings, latencies } = await timeQueries(set.questions, async (q) =>
      (await workspace.search(q, { k: 60 })).map((hit) => hit.chunk.path),
    );
    await workspace.close();
    const scores = scoreRankings(set.questions, rankings);
    return {
      set: set.name,
      system: variant.name,
      recallAt5: scores.recallAt5,
      mrrAt10: scores.mrrAt10,
      ranks: scores.ranks,
      indexSeconds,
      queryP50Ms: percentile(latencies, 50),
      queryP99Ms: percentile(latencies, 99),
    };
  } finally {
    await fs.rm(storeDir, { recursive: true, force: true });
  }
}

async function evaluateBaselines(set: EvalSet): Promise<SystemResult[]> {
  const files: { path: string; text: string }[] = [];
  for (const name of (await fs.readdir(set.corpus)).sort()) {
    if (name.startsWith('.')) continue;
    files.push({ path: name, text: await fs.readFile(path.join(set.corpus, name), 'utf8') });
  }
  const results: SystemResult[] = [];
  for (const [system, build] of [
    ['MiniSearch 40-line', (chunks: ReturnType<typeof fortyLineChunks>) => new MiniSearchBaseline(chunks)],
    ['Okapi BM25 40-line', (chunks: ReturnType<typeof fortyLineChunks>) => new OkapiBm25Baseline(chunks)],
  ] as const) {
    const started = performance.now();
    const engine = build(fortyLineChunks(files));
    const indexSeconds = (performance.now() - started) / 1000;
    const { rankings, latencies } = await timeQueries(set.questions, (q) => engine.rankPaths(q));
    const scores = scoreRankings(set.questions, rankings);
    results.push({
      set: set.name,
      system,
      recallAt5: scores.recallAt5,
      mrrAt10: scores.mrrAt10,
      indexSeconds,
      queryP50Ms: percentile(latencies, 50),
      queryP99Ms: percentile(latencies, 99),
    });
  }
  return results;
}

export async function runBench(): Promise<unknown> {
  const sets = await loadEvalSets();
  if (typeof sets === 'string') {
    console.log(`bench:retrieval skipped: ${sets}`);
    return { skipped: sets };
  }
  const results: (SystemResult & { ranks?: number[] })[] = [];
  const study = process.argv.includes('--study');
  const embedder = createDefaultEmbedder();
  for (const set of sets) {
    results.push(await evaluateDocent(set, { name: 'Docent default (GloVe-SIF hybrid)', embedder }));
    results.push(await evaluateDocent(set, { name: 'Docent keyword only' }));
    results.push(...(await evaluateBaselines(set)));
    if (study) for (const variant of studyVariants(embedder)) results.push(await evaluateDocent(set, variant));
  }
  await embedder.dispose();
  const rows = results.map((r) => [
    r.set,
    r.system,
    r.recallAt5.toFixed(3),
    r.mrrAt10.toFixed(3),
    r.indexSeconds.toFixed(2),
    r.queryP50Ms.toFixed(2),
    r.queryP99Ms.toFixed(2),
  ]);
  console.log(formatTable(['set', 'system', 'recall@5', 'MRR@10', 'index s', 'query p50 ms', 'query p99 ms'], rows));
  // Citations exact: each passage's first and last words lie on the lines it cites (bench/citations.ts).
  const citations = await corpusCitations(path.join(ROOT, '.cache'), (corpus, dest) =>
    execFileSync('bash', [path.join(SHARED_EVAL, `get-${corpus}-docs.sh`), dest], { stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  console.log(
    `\n${formatTable(
      ['corpus', 'files', 'passages', 'citations exact', 'longest passage (chars)'],
      citations.map((c) => [c.corpus, String(c.files), String(c.passages), `${(100 * c.exact).toFixed(2)}%`, String(c.longestPassage)]),
    )}`,
  );
  const output = { results, citations };
  await writeResults('retrieval', output);
  return output;
}

if (process.argv[1]?.endsWith('retrieval.ts')) void runBench();
