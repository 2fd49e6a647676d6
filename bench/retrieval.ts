/**
 * bench:retrieval — file-level recall@5 and MRR@10 (../shared/eval/README.md) on the five
 * evaluation sets (postgres, nodejs, python, rustbook, small; small is six workspaces indexed one
 * at a time), side by side in one run: Docent (hybrid, keyword-only and dense-only over one index
 * per set), MiniSearch over 40-line chunks (the library peer) and plain Okapi BM25 over the same
 * chunks; the mean over the five sets and each set. Also index time and query latency
 * percentiles. Corpora are fetched with the scripts in ../shared/eval into .cache/ (needs apt);
 * without ../shared the bench says so and stops.
 *
 * Flags: --embedder <choice> (default: the shipped default model), --sets a,b (a subset, for
 * quick looks; defaults are chosen on all five), --study (one-change ablations), --grid (fusion
 * weights crossed, each searched on the one index per set: fusion is query-time only; `--grid
 * centroid` crosses the page-centroid weight with the vector and page-dense weights), --misses
 * (each question Docent's default hybrid does not rank first: its rank, the relevant files and the
 * first three files it returned, to study the method's failures rather than tune to them).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HashingEmbedder } from '../src/core/embedding/hashingEmbedder.js';
import { DEFAULT_CHUNKING, type ChunkingOptions } from '../src/core/chunker.js';
import { DEFAULT_KEYWORD_OPTIONS, type KeywordIndexOptions } from '../src/core/search/keywordIndex.js';
import { defaultFusionFor, HybridRetriever, type FusionOptions } from '../src/core/search/hybrid.js';
import { DocStore } from '../src/core/store.js';
import type { Embedder, SearchMode } from '../src/core/types.js';
import { resolveEmbedder } from '../src/core/workspace/embedderChoice.js';
import { Workspace } from '../src/core/workspace/workspace.js';
import { fortyLineChunks, MiniSearchBaseline, OkapiBm25Baseline } from './baselines.js';
import { corpusCitations } from './citations.js';
import { distinctFiles, percentile, scoreRankings, type EvalQuestion } from './evalMetrics.js';
import { writeResults, formatTable } from './report.js';

const ROOT = path.resolve(__dirname, '..');
const SHARED_EVAL = path.resolve(ROOT, '..', 'shared', 'eval');

/** The five dev sets, in the order tables print them. */
export const EVAL_SET_NAMES = ['postgres', 'nodejs', 'python', 'rustbook', 'small'] as const;

/** One index and the questions asked of it; paths in `questions` are relative to `corpus`. */
export interface EvalWorkspace {
  name: string;
  corpus: string;
  questions: EvalQuestion[];
}

export interface EvalSet {
  name: string;
  /** The set's folder (for `small`, the parent of its six workspaces). */
  corpus: string;
  questions: EvalQuestion[];
  /** One entry per index to build: the whole corpus, or (small) one per top-level folder. */
  workspaces: EvalWorkspace[];
}

export async function loadEvalSets(names: readonly string[] = EVAL_SET_NAMES): Promise<EvalSet[] | string> {
  if (!existsSync(SHARED_EVAL)) return `../shared/eval not found beside the project (${SHARED_EVAL})`;
  const sets: EvalSet[] = [];
  for (const name of names) {
    const dest = path.join(ROOT, '.cache', `${name}-docs`);
    if (!existsSync(path.join(dest, '.done'))) execFileSync('bash', [path.join(SHARED_EVAL, `get-${name}-docs.sh`), dest], { stdio: ['ignore', 'ignore', 'inherit'] });
    const questions = JSON.parse(await fs.readFile(path.join(SHARED_EVAL, `${name}-questions.json`), 'utf8')) as EvalQuestion[];
    sets.push({ name, corpus: dest, questions, workspaces: name === 'small' ? perFolderWorkspaces(dest, questions) : [{ name, corpus: dest, questions }] });
  }
  return sets;
}

/** `small`: each question goes to the workspace its relevant paths' first segment names. */
function perFolderWorkspaces(root: string, questions: EvalQuestion[]): EvalWorkspace[] {
  const byFolder = new Map<string, EvalQuestion[]>();
  for (const question of questions) {
    const folder = question.rel[0]!.split('/')[0]!;
    const local = { q: question.q, rel: question.rel.filter((rel) => rel.startsWith(`${folder}/`)).map((rel) => rel.slice(folder.length + 1)) };
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), local]);
  }
  return [...byFolder].sort(([a], [b]) => a.localeCompare(b)).map(([folder, list]) => ({ name: folder, corpus: path.join(root, folder), questions: list }));
}

interface SystemResult {
  set: string;
  system: string;
  recallAt5: number;
  mrrAt10: number;
  /** Per question: rank of the first relevant file (0: not in the first 10). */
  ranks: number[];
  /** Per question: the first files returned (the --misses dump). */
  rankings: string[][];
  indexSeconds: number;
  queryP50Ms: number;
  queryP99Ms: number;
}

/**
 * Asked untimed before a set's questions, so latencies are a warm process's: one that has already
 * served a few queries, as the core process of an open window has (loading segments and the query
 * model is the index's cost, and compiling the search code a new process's, not a query's). Generic
 * questions, none of any eval set (test/bench/warmUp.test.ts), so no timed question repeats an
 * untimed one; ten because a process's first few questions still run partly unoptimised code (V8
 * compiles the search's hot loops over its first several queries; BENCHMARKS.md, latency5).
 */
export const WARM_UP_QUESTIONS = [
  'How do I install it?',
  'What are the configuration options?',
  'How do I fix a permission denied error?',
  'What changed in the latest release?',
  'Is there an example of the command line usage?',
  'Where are the log files written?',
  'How can I make it run faster?',
  'What does this warning mean and how do I turn it off?',
  'How do I upgrade to a newer version without losing data?',
  'Which settings control memory use?',
];

async function timeQueries(questions: EvalQuestion[], rank: (q: string) => Promise<string[]> | string[]) {
  const rankings: string[][] = [];
  const latencies: number[] = [];
  for (const question of WARM_UP_QUESTIONS) await rank(question);
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

/** Ablations behind the defaults (`--study`): each changes one thing from the default. */
function studyVariants(embedder: Embedder | undefined): DocentVariant[] {
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
    { name: 'study: no page-level dense evidence', fusion: { pageDenseWeight: 0 } },
    { name: 'study: page dense weight 0.05', fusion: { pageDenseWeight: 0.05 } },
    { name: 'study: page dense weight 0.2', fusion: { pageDenseWeight: 0.2 } },
    { name: 'study: page dense over top 10 passages', fusion: { pageDenseCandidates: 10 } },
    { name: 'study: page dense over top 30 passages', fusion: { pageDenseCandidates: 30 } },
    { name: 'study: page dense, no RRF vector ranking', fusion: { vectorWeight: 0 } },
    { name: 'study: hashing stand-in instead of the model', embedder: new HashingEmbedder() },
    { name: 'study: RRF k=60 w=0.5, no page dense', fusion: { rrfK: 60, vectorWeight: 0.5, pageDenseWeight: 0 } },
    { name: 'study: RRF k=60 w=0.2, no page dense', fusion: { rrfK: 60, vectorWeight: 0.2, pageDenseWeight: 0 } },
    { name: 'study: RRF k=10 w=0.3, no page dense', fusion: { vectorWeight: 0.3, pageDenseWeight: 0 } },
  ];
  // One change from the default: every row keeps the default model unless it names another.
  return variants.map((variant) => ({ embedder, ...variant }));
}

/** `--grid`: vector weight × RRF k × page-dense weight, and page-evidence weight beside the default. */
function fusionGrid(): { name: string; fusion: Partial<FusionOptions> }[] {
  const grid: { name: string; fusion: Partial<FusionOptions> }[] = [];
  for (const rrfK of [10, 30])
    for (const vectorWeight of [0, 0.1, 0.2, 0.35, 0.5])
      for (const pageDenseWeight of [0, 0.1, 0.2, 0.3]) grid.push({ name: `grid: k ${rrfK} vector ${vectorWeight} page dense ${pageDenseWeight}`, fusion: { rrfK, vectorWeight, pageDenseWeight } });
  for (const fileWeight of [0.3, 0.7]) grid.push({ name: `grid: page evidence ${fileWeight}`, fusion: { fileWeight } });
  return grid;
}

/** `--grid centroid`: page-centroid weight × vector weight × page-dense weight (RRF k 10). */
function centroidGrid(): { name: string; fusion: Partial<FusionOptions> }[] {
  const grid: { name: string; fusion: Partial<FusionOptions> }[] = [];
  for (const pageCentroidWeight of [0, 0.5, 1, 1.5])
    for (const vectorWeight of [0.1, 0.2])
      for (const pageDenseWeight of [0.1, 0.2, 0.3])
        grid.push({ name: `grid: centroid ${pageCentroidWeight} vector ${vectorWeight} page dense ${pageDenseWeight}`, fusion: { rrfK: 10, vectorWeight, pageDenseWeight, pageCentroidWeight } });
  return grid;
}

const MODE_LABEL: Record<SearchMode, string> = { hybrid: 'hybrid', keyword: 'keyword only', dense: 'dense only' };

/**
 * Indexes each of the set's workspaces once and asks every question in each mode; one result
 * per mode, named `<variant> <mode>` (just the variant's name when only hybrid is asked).
 */
export async function evaluateDocent(
  set: EvalSet,
  variant: DocentVariant,
  modes: SearchMode[] = ['hybrid'],
  grid: { name: string; fusion: Partial<FusionOptions> }[] = [],
): Promise<SystemResult[]> {
  const perMode = new Map<SearchMode, { rankings: string[][]; latencies: number[] }>(modes.map((mode) => [mode, { rankings: [], latencies: [] }]));
  const perFusion = grid.map(() => ({ rankings: [] as string[][], latencies: [] as number[] }));
  let indexSeconds = 0;
  const questions: EvalQuestion[] = [];
  for (const part of set.workspaces) {
    const storeDir = await fs.mkdtemp(path.join(tmpdir(), 'docent-bench-'));
    try {
      // Every variant shares the caller's embedder (loaded once), which the workspace leaves open.
      const workspace = await Workspace.open(
        {
          folders: [{ name: part.name, root: part.corpus, storeDir }],
          createStores: true,
          ...(variant.embedder ? {} : { embedder: 'none' }),
          indexing: { chunking: variant.chunking, exclude: ['.done'], defaultExcludes: false },
          search: { fusion: variant.fusion, keyword: variant.keyword },
        },
        { embedder: variant.embedder },
      );
      const started = performance.now();
      await workspace.index();
      indexSeconds += (performance.now() - started) / 1000;
      for (const mode of modes) {
        const { rankings, latencies } = await timeQueries(part.questions, async (q) =>
          (await workspace.search(q, { k: 60, mode })).map((hit) => hit.chunk.path),
        );
        perMode.get(mode)!.rankings.push(...rankings);
        perMode.get(mode)!.latencies.push(...latencies);
      }
      questions.push(...part.questions);
      await workspace.close();
      if (grid.length > 0) await searchFusionGrid(storeDir, variant, part.questions, grid, perFusion);
    } finally {
      await fs.rm(storeDir, { recursive: true, force: true });
    }
  }
  const result = (system: string, { rankings, latencies }: { rankings: string[][]; latencies: number[] }): SystemResult => {
    const scores = scoreRankings(questions, rankings);
    return {
      set: set.name,
      system,
      recallAt5: scores.recallAt5,
      mrrAt10: scores.mrrAt10,
      ranks: scores.ranks,
      rankings,
      indexSeconds,
      queryP50Ms: percentile(latencies, 50),
      queryP99Ms: percentile(latencies, 99),
    };
  };
  return [
    ...modes.map((mode) => result(modes.length === 1 && mode === 'hybrid' ? variant.name : `${variant.name} ${MODE_LABEL[mode]}`, perMode.get(mode)!)),
    ...grid.map((entry, i) => result(entry.name, perFusion[i]!)),
  ];
}

/** Each grid entry searches the index just built (hybrid, the question's vector embedded once). */
async function searchFusionGrid(
  storeDir: string,
  variant: DocentVariant,
  questions: EvalQuestion[],
  grid: { name: string; fusion: Partial<FusionOptions> }[],
  perFusion: { rankings: string[][]; latencies: number[] }[],
): Promise<void> {
  const store = await DocStore.open(storeDir);
  store.load();
  const vectors = variant.embedder ? await variant.embedder.embed(questions.map((question) => question.q)) : [];
  const vectorOf = new Map(questions.map((question, i) => [question.q, vectors[i]]));
  for (const [i, entry] of grid.entries()) {
    const retriever = new HybridRetriever(store, variant.embedder, { ...defaultFusionFor(variant.embedder?.id), ...variant.fusion, ...entry.fusion });
    const { rankings, latencies } = await timeQueries(questions, async (q) =>
      (await retriever.search(q, { k: 60, queryVector: vectorOf.get(q) })).map((hit) => hit.chunk.path),
    );
    perFusion[i]!.rankings.push(...rankings);
    perFusion[i]!.latencies.push(...latencies);
  }
}

async function filesUnder(root: string, dir = ''): Promise<{ path: string; text: string }[]> {
  const files: { path: string; text: string }[] = [];
  for (const entry of (await fs.readdir(path.join(root, dir), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const relative = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await filesUnder(root, relative)));
    else if (entry.isFile()) files.push({ path: relative, text: await fs.readFile(path.join(root, relative), 'utf8') });
  }
  return files;
}

async function evaluateBaselines(set: EvalSet): Promise<SystemResult[]> {
  const results: SystemResult[] = [];
  for (const [system, build] of [
    ['MiniSearch 40-line', (chunks: ReturnType<typeof fortyLineChunks>) => new MiniSearchBaseline(chunks)],
    ['Okapi BM25 40-line', (chunks: ReturnType<typeof fortyLineChunks>) => new OkapiBm25Baseline(chunks)],
  ] as const) {
    const rankings: string[][] = [];
    const latencies: number[] = [];
    const questions: EvalQuestion[] = [];
    let indexSeconds = 0;
    for (const part of set.workspaces) {
      const files = await filesUnder(part.corpus);
      const started = performance.now();
      const engine = build(fortyLineChunks(files));
      indexSeconds += (performance.now() - started) / 1000;
      const timed = await timeQueries(part.questions, (q) => engine.rankPaths(q));
      rankings.push(...timed.rankings);
      latencies.push(...timed.latencies);
      questions.push(...part.questions);
    }
    const scores = scoreRankings(questions, rankings);
    results.push({
      set: set.name,
      system,
      recallAt5: scores.recallAt5,
      mrrAt10: scores.mrrAt10,
      ranks: scores.ranks,
      rankings,
      indexSeconds,
      queryP50Ms: percentile(latencies, 50),
      queryP99Ms: percentile(latencies, 99),
    });
  }
  return results;
}

function flagValue(argv: string[], flag: string): string | undefined {
  const index = argv.indexOf(flag);
  return index >= 0 ? argv[index + 1] : undefined;
}

/** Per system: MRR@10 and recall@5 of each set and their means (only over systems run on every set). */
export function summarise(results: SystemResult[], setNames: string[]): { system: string; meanRecallAt5: number; meanMrrAt10: number; sets: Record<string, { recallAt5: number; mrrAt10: number }> }[] {
  const systems = [...new Set(results.map((result) => result.system))];
  return systems.flatMap((system) => {
    const rows = setNames.map((name) => results.find((result) => result.system === system && result.set === name));
    if (rows.some((row) => row === undefined)) return [];
    const present = rows as SystemResult[];
    return [
      {
        system,
        meanRecallAt5: present.reduce((sum, row) => sum + row.recallAt5, 0) / present.length,
        meanMrrAt10: present.reduce((sum, row) => sum + row.mrrAt10, 0) / present.length,
        sets: Object.fromEntries(present.map((row) => [row.set, { recallAt5: row.recallAt5, mrrAt10: row.mrrAt10 }])),
      },
    ];
  });
}

/** One line per question `results` (one per set, in set order) did not rank first. */
function formatMisses(sets: EvalSet[], results: SystemResult[]): string {
  const rows = results.flatMap((result) => {
    const questions = sets.find((set) => set.name === result.set)!.workspaces.flatMap((part) => part.questions);
    return result.ranks.flatMap((rank, i) => (rank === 1 ? [] : [[result.set, rank === 0 ? '>10' : String(rank), questions[i]!.q, questions[i]!.rel.join(' '), result.rankings[i]!.slice(0, 3).join(' ')]]));
  });
  return formatTable(['set', 'rank', 'question', 'relevant', 'first three files'], rows);
}

export async function runBench(): Promise<unknown> {
  const argv = process.argv;
  const setNames = (flagValue(argv, '--sets') ?? EVAL_SET_NAMES.join(',')).split(',').filter(Boolean);
  const unknown = setNames.filter((name) => !(EVAL_SET_NAMES as readonly string[]).includes(name));
  if (unknown.length) throw new Error(`--sets: unknown set(s) ${unknown.join(', ')}; choose from ${EVAL_SET_NAMES.join(', ')}`);
  const sets = await loadEvalSets(setNames);
  if (typeof sets === 'string') {
    console.log(`bench:retrieval skipped: ${sets}`);
    return { skipped: sets };
  }
  const results: SystemResult[] = [];
  const study = argv.includes('--study');
  const choice = flagValue(argv, '--embedder') ?? 'default';
  const { embedder } = resolveEmbedder(choice, { device: 'cpu' });
  const label = `Docent (${embedder?.id ?? 'no model'})`;
  for (const set of sets) {
    console.error(`bench:retrieval: ${set.name}`);
    const grid = !argv.includes('--grid') || !embedder ? [] : flagValue(argv, '--grid') === 'centroid' ? centroidGrid() : fusionGrid();
    results.push(...(await evaluateDocent(set, { name: label, embedder }, embedder ? ['hybrid', 'keyword', 'dense'] : ['keyword'], grid)));
    results.push(...(await evaluateBaselines(set)));
    if (study) for (const variant of studyVariants(embedder)) results.push(...(await evaluateDocent(set, variant)));
  }
  await embedder?.dispose();
  if (argv.includes('--misses')) console.log(`\n${formatMisses(sets, results.filter((result) => result.system === (embedder ? `${label} hybrid` : `${label} keyword only`)))}`);
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
  const summary = summarise(results, sets.map((set) => set.name));
  console.log(`\nrecall@5 / MRR@10 per set and the mean over ${sets.length} set(s):`);
  console.log(
    formatTable(
      ['system', ...sets.map((set) => set.name), 'mean'],
      summary.map((row) => [
        row.system,
        ...sets.map((set) => `${row.sets[set.name]!.recallAt5.toFixed(3)} / ${row.sets[set.name]!.mrrAt10.toFixed(3)}`),
        `${row.meanRecallAt5.toFixed(3)} / ${row.meanMrrAt10.toFixed(3)}`,
      ]),
    ),
  );
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
  const output = { embedder: choice, sets: sets.map((set) => set.name), results, summary, citations };
  // A model given as a folder is named by its last part: the results file sits in bench/results.
  const suffix = [choice === 'default' ? '' : path.basename(choice), setNames.length === EVAL_SET_NAMES.length ? '' : setNames.join('-')].filter(Boolean).join('-');
  await writeResults(suffix ? `retrieval-${suffix}` : 'retrieval', output);
  return output;
}

if (process.argv[1]?.endsWith('retrieval.ts')) void runBench();
