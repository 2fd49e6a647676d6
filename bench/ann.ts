/**
 * HNSW vs exact cosine search: recall, query latency, build time, memory. Exact and HNSW
 * queries are interleaved one query at a time so that load from other processes on this shared
 * machine hits both sides alike; read the ratios, not the absolute numbers.
 *
 * Data: clustered synthetic embeddings (recall@10), or with `--store` a Docent store's real
 * passage vectors (recall@100, the depth fusion reads): queries are passages held out of the
 * index, sizes are the first N of the rest in a seeded shuffle (capped at what the store holds);
 * passages whose vector is an exact copy of an earlier one (the same boilerplate in many files)
 * count once, since a tie between copies is no miss. HNSW is built as the store builds it
 * (storeVectors.ts HNSW_BUILD), so the table says where exact search stops being the better
 * choice (HNSW_MIN_VECTORS) and which ef keeps recall@100 ≥ 0.97 (HNSW_EF_SEARCH).
 *
 * Each graph is built twice: on this thread (HnswVectorIndex.build, as the store did before its
 * builds moved off the thread) and as the store builds it now (buildGraphFile: a worker thread
 * writes the file, which is then loaded and searched); this thread's event-loop delay
 * (perf_hooks.monitorEventLoopDelay) is recorded during each, as what a process that also
 * answers queries would see. `--rounds N` repeats everything (sizes alternating) and reports
 * medians; the JSON keeps every round.
 *
 *   node --import tsx bench/run.ts ann [--sizes 10000,100000] [--queries 500] [--store DIR[,DIR...]] [--rounds 3]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { ExactVectorIndex, HnswVectorIndex, buildGraphFile } from '../src/core/vectorIndex.js';
import { HNSW_BUILD, HNSW_EF_SEARCH, HNSW_MIN_VECTORS } from '../src/core/storeVectors.js';
import { seededRandom } from '../src/core/seededRandom.js';
import { DocStore } from '../src/core/store.js';

export interface AnnBenchOptions {
  sizes?: number[];
  queries?: number;
  /** Docent stores (comma-separated) whose passage vectors are the data (default: synthetic clusters). */
  store?: string;
  /** Times everything is measured (default 1); the table shows medians. */
  rounds?: number;
  /** Where the JSON results go. */
  outFile?: string;
}

/** What one size is measured on: `count` data rows and the query rows, `dimensions` wide. */
interface AnnData {
  dimensions: number;
  points: Pick<ClusteredVectors, 'count' | 'row'>;
  queries: Pick<ClusteredVectors, 'count' | 'row'>;
  k: number;
  efs: number[];
}

export interface ClusteredVectors {
  dimensions: number;
  count: number;
  /** `count` unit-length rows of `dimensions` floats, back to back. */
  data: Float32Array;
  row(i: number): Float32Array;
}

/**
 * Unit vectors scattered around `clusters` random centres on the unit sphere, the rough shape of
 * text embeddings. The same `clusterSeed` gives the same centres, so data and queries drawn with
 * different `pointSeed`s come from one distribution but never coincide.
 */
export function clusteredVectors(options: {
  count: number;
  dimensions: number;
  clusters: number;
  /** Expected length of the noise added to a centre before normalising (centres have length 1). */
  noise: number;
  clusterSeed: number;
  pointSeed: number;
}): ClusteredVectors {
  const { count, dimensions, clusters } = options;
  const centreRandom = seededRandom(options.clusterSeed);
  const centres = new Float32Array(clusters * dimensions);
  const draw = new Float32Array(dimensions);
  for (let c = 0; c < clusters; c++) {
    for (let d = 0; d < dimensions; d++) draw[d] = gaussian(centreRandom);
    normaliseInto(draw, centres, c * dimensions);
  }
  const pointRandom = seededRandom(options.pointSeed);
  const spread = options.noise / Math.sqrt(dimensions);
  const data = new Float32Array(count * dimensions);
  for (let i = 0; i < count; i++) {
    const centre = Math.floor(pointRandom() * clusters) * dimensions;
    for (let d = 0; d < dimensions; d++) draw[d] = centres[centre + d]! + spread * gaussian(pointRandom);
    normaliseInto(draw, data, i * dimensions);
  }
  return { dimensions, count, data, row: (i) => data.subarray(i * dimensions, (i + 1) * dimensions) };
}

interface EfResult {
  efSearch: number;
  /** Share of the exact top k that HNSW returns (k: 10 synthetic, 100 real). */
  recall: number;
  p50Ms: number;
  p99Ms: number;
  /** Exact p50 / this p50, from the same interleaved run. */
  speedupVsExact: number;
}

/** This thread's event-loop delay while a graph was built (timers late by this much). */
interface LoopDelay {
  maxMs: number;
  p99Ms: number;
}

interface SizeResult {
  round: number;
  count: number;
  dimensions: number;
  k: number;
  exact: { buildMs: number; p50Ms: number; p99Ms: number; memoryBytes: number };
  hnsw: {
    M: number;
    efConstruction: number;
    /** Built on this thread (HnswVectorIndex.build). */
    buildMs: number;
    buildLoopDelay: LoopDelay;
    rssDeltaBytes: number;
    /** Built and written by a worker thread (buildGraphFile), as the store does. */
    workerBuildMs: number;
    workerLoopDelay: LoopDelay;
    /** The same measured over IDLE_MS of doing nothing just before: what the machine's load alone gives. */
    idleLoopDelay: LoopDelay;
    fileBytes: number;
    loadMs: number;
    bySearchEf: EfResult[];
  };
}

const DIMENSIONS = 384;
const CLUSTERS = 100;
const NOISE = 1;
const { M, efConstruction: EF_CONSTRUCTION } = HNSW_BUILD;
const SYNTHETIC = { k: 10, efs: [10, 32, 64, 128] };
/** How long the event-loop delay of doing nothing is measured, as the control for the builds'. */
const IDLE_MS = 5000;
/** Fusion reads the vector ranking 100 deep (DEFAULT_FUSION.candidates). */
const REAL = { k: 100, efs: [...new Set([100, 200, HNSW_EF_SEARCH, 800])].sort((a, b) => a - b) };

export async function runBench(options: AnnBenchOptions = {}): Promise<unknown> {
  const { queries = 500, rounds = 1, outFile = join(__dirname, 'results', 'ann.json') } = options;
  const real = options.store ? await storeVectors(options.store, queries) : undefined;
  const sizes = options.sizes ?? (real ? [5_000, 10_000, HNSW_MIN_VECTORS, 50_000, 100_000, 200_000] : [10_000, 100_000]);
  const counts = real ? [...new Set(sizes.map((size) => Math.min(size, real.points.count)))] : sizes;
  const data = new Map(counts.map((count) => [count, real ? { ...REAL, ...real, points: { count, row: real.points.row } } : syntheticData(count, queries)]));
  const results: SizeResult[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const count of counts) {
      console.error(`[ann] round ${round}/${rounds}, N=${count}`);
      results.push({ ...(await benchOneSize(count, data.get(count)!)), round });
    }
  }
  const report = {
    benchmark: 'ann',
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' },
    rounds,
    data: real
      ? { kind: 'store', store: options.store, dimensions: real.dimensions, queries: real.queries.count, duplicatesDropped: real.duplicates, k: REAL.k }
      : { kind: 'clustered-gaussian', dimensions: DIMENSIONS, clusters: CLUSTERS, noise: NOISE, queries, k: SYNTHETIC.k },
    results,
  };
  console.log(
    formatTable(
      counts.map((count) => medianOf(results.filter((result) => result.count === count))),
      rounds,
      real
        ? `${real.dimensions}-d passage vectors of ${options.store} (${real.points.count + real.queries.count} distinct, ${real.duplicates} exact copies dropped), ${real.queries.count} held-out passages as queries, k=${REAL.k}`
        : `${DIMENSIONS}-d, ${CLUSTERS} clusters, ${queries} queries, k=${SYNTHETIC.k}`,
    ),
  );
  console.log(`store: exact below ${HNSW_MIN_VECTORS} live vectors a segment, HNSW ef ${HNSW_EF_SEARCH} above (src/core/storeVectors.ts)`);
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, JSON.stringify(report, null, 2));
  console.log(`\nJSON: ${outFile}`);
  return report;
}

function syntheticData(count: number, queries: number): AnnData {
  const shape = { dimensions: DIMENSIONS, clusters: CLUSTERS, noise: NOISE, clusterSeed: 1 };
  return { ...SYNTHETIC, dimensions: DIMENSIONS, points: clusteredVectors({ ...shape, count, pointSeed: 2 }), queries: clusteredVectors({ ...shape, count: queries, pointSeed: 3 }) };
}

/**
 * The distinct passage vectors of the stores `dirs` (comma-separated: more passages than one
 * corpus holds, all embedded by the same model) in a seeded shuffle: the first `queries` are the
 * queries, the rest the data.
 */
async function storeVectors(dirs: string, queries: number): Promise<Pick<AnnData, 'dimensions' | 'points' | 'queries'> & { duplicates: number }> {
  const seen = new Set<string>();
  const vectors: Float32Array[] = [];
  let dimensions: number | undefined;
  let embedder: string | undefined;
  let all = 0;
  for (const dir of dirs.split(',')) {
    const store = await DocStore.open(dir);
    if (!store.embedder) throw new Error(`${dir} has no vectors (indexed with --embedder none)`);
    if (embedder !== undefined && store.embedder.id !== embedder) throw new Error(`${dir}'s vectors come from ${store.embedder.id}, not ${embedder}`);
    ({ id: embedder, dimensions } = store.embedder);
    for (const file of store.filePaths()) {
      for (const id of store.file(file)!.chunkIds) {
        const vector = store.vectorOf(id)!;
        all++;
        const key = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
        if (seen.has(key)) continue;
        seen.add(key);
        vectors.push(vector);
      }
    }
  }
  const random = seededRandom(7);
  for (let i = vectors.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [vectors[i], vectors[j]] = [vectors[j]!, vectors[i]!];
  }
  const width = dimensions!;
  const rows = new Float32Array(vectors.length * width);
  vectors.forEach((vector, i) => rows.set(vector, i * width));
  const held = Math.min(queries, Math.floor(vectors.length / 10));
  const row = (offset: number) => (i: number) => rows.subarray((offset + i) * width, (offset + i + 1) * width);
  return { dimensions: width, duplicates: all - vectors.length, queries: { count: held, row: row(0) }, points: { count: vectors.length - held, row: row(held) } };
}

async function benchOneSize(count: number, data: AnnData): Promise<Omit<SizeResult, 'round'>> {
  const { dimensions, points, queries, k, efs } = data;
  const queryCount = queries.count;
  let started = performance.now();
  const exact = new ExactVectorIndex(dimensions, count);
  for (let i = 0; i < count; i++) exact.upsert(i, points.row(i));
  const exactBuildMs = performance.now() - started;

  console.error(`[ann] N=${count}: building HNSW (M=${M}, efConstruction=${EF_CONSTRUCTION}, one thread)`);
  const rows = new Float32Array(count * dimensions);
  for (let i = 0; i < count; i++) rows.set(points.row(i), i * dimensions);
  const labels = Array.from({ length: count }, (_, i) => i);
  let delay = await loopDelayMonitor();
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  const idleLoopDelay = delay();
  const rssBefore = process.memoryUsage().rss;
  delay = await loopDelayMonitor();
  started = performance.now();
  HnswVectorIndex.build(dimensions, labels, rows, HNSW_BUILD);
  const buildMs = performance.now() - started;
  // The timer that measures the delay fires once the build has let go of this thread.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const buildLoopDelay = delay();
  // Garbage collected during the build can outweigh the graph: the change may be negative.
  const rssDeltaBytes = process.memoryUsage().rss - rssBefore;

  // As the store builds it: in a worker, written to a file; then timed as a query process meets it, loaded with its checksum verified.
  const directory = await mkdtemp(join(tmpdir(), 'docent-ann-'));
  const indexPath = join(directory, 'vectors.hnsw');
  console.error(`[ann] N=${count}: building HNSW again in a worker thread`);
  delay = await loopDelayMonitor();
  started = performance.now();
  const checksum = await buildGraphFile(indexPath, dimensions, labels, rows, HNSW_BUILD);
  const workerBuildMs = performance.now() - started;
  const workerLoopDelay = delay();
  const fileBytes = checksum.bytes;
  started = performance.now();
  const hnsw = HnswVectorIndex.load(indexPath, dimensions, checksum);
  const loadMs = performance.now() - started;
  await rm(directory, { recursive: true, force: true });

  console.error(`[ann] N=${count}: ${queryCount} queries, exact and HNSW interleaved`);
  // Warm up the JIT and caches on both sides before timing.
  for (let q = 0; q < Math.min(20, queryCount); q++) {
    exact.search(queries.row(q), k);
    for (const ef of efs) hnsw.search(queries.row(q), k, ef);
  }
  const exactTimes: number[] = [];
  const efTimes = efs.map(() => [] as number[]);
  const efHits = efs.map(() => 0);
  for (let q = 0; q < queryCount; q++) {
    const query = queries.row(q);
    let t = performance.now();
    const truth = new Set(exact.search(query, k).map((hit) => hit.label));
    exactTimes.push(performance.now() - t);
    efs.forEach((ef, e) => {
      t = performance.now();
      const hits = hnsw.search(query, k, ef);
      efTimes[e]!.push(performance.now() - t);
      efHits[e]! += hits.filter((hit) => truth.has(hit.label)).length;
    });
  }
  const exactP50 = percentile(exactTimes, 50);
  return {
    count,
    dimensions,
    k,
    exact: { buildMs: exactBuildMs, p50Ms: exactP50, p99Ms: percentile(exactTimes, 99), memoryBytes: count * dimensions * 4 },
    hnsw: {
      M,
      efConstruction: EF_CONSTRUCTION,
      buildMs,
      buildLoopDelay,
      rssDeltaBytes,
      workerBuildMs,
      workerLoopDelay,
      idleLoopDelay,
      fileBytes,
      loadMs,
      bySearchEf: efs.map((efSearch, e) => {
        const p50Ms = percentile(efTimes[e]!, 50);
        return { efSearch, recall: efHits[e]! / (queryCount * Math.min(k, count)), p50Ms, p99Ms: percentile(efTimes[e]!, 99), speedupVsExact: exactP50 / p50Ms };
      }),
    },
  };
}

/** Starts recording this thread's event-loop delay; the returned function stops and reads it. */
async function loopDelayMonitor(): Promise<() => LoopDelay> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  // The monitor's first tick only starts its clock: a thread blocked before it would go unrecorded.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return () => {
    histogram.disable();
    return { maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6 };
  };
}

/** One result per size: each time the median of the rounds' (recall does not vary: the builds are seeded). */
function medianOf(rounds: SizeResult[]): SizeResult {
  const median = (pick: (result: SizeResult) => number) => percentile(rounds.map(pick), 50);
  const first = rounds[0]!;
  const delay = (pick: (result: SizeResult) => LoopDelay): LoopDelay => ({ maxMs: median((result) => pick(result).maxMs), p99Ms: median((result) => pick(result).p99Ms) });
  return {
    ...first,
    exact: { ...first.exact, buildMs: median((result) => result.exact.buildMs), p50Ms: median((result) => result.exact.p50Ms), p99Ms: median((result) => result.exact.p99Ms) },
    hnsw: {
      ...first.hnsw,
      buildMs: median((result) => result.hnsw.buildMs),
      buildLoopDelay: delay((result) => result.hnsw.buildLoopDelay),
      rssDeltaBytes: median((result) => result.hnsw.rssDeltaBytes),
      workerBuildMs: median((result) => result.hnsw.workerBuildMs),
      workerLoopDelay: delay((result) => result.hnsw.workerLoopDelay),
      idleLoopDelay: delay((result) => result.hnsw.idleLoopDelay),
      loadMs: median((result) => result.hnsw.loadMs),
      bySearchEf: first.hnsw.bySearchEf.map((ef, e) => ({
        ...ef,
        p50Ms: median((result) => result.hnsw.bySearchEf[e]!.p50Ms),
        p99Ms: median((result) => result.hnsw.bySearchEf[e]!.p99Ms),
        speedupVsExact: median((result) => result.hnsw.bySearchEf[e]!.speedupVsExact),
      })),
    },
  };
}

function formatTable(results: SizeResult[], rounds: number, data: string): string {
  const header = ['N', 'method', `recall@${results[0]?.k ?? 10}`, 'p50 ms', 'p99 ms', 'speed-up', 'build s', 'memory'];
  const rows: string[][] = [];
  for (const { count, exact, hnsw } of results) {
    rows.push([String(count), 'exact', '1.000', exact.p50Ms.toFixed(3), exact.p99Ms.toFixed(3), '1.0x', (exact.buildMs / 1000).toFixed(1), `${mib(exact.memoryBytes)} (vectors)`]);
    for (const ef of hnsw.bySearchEf) {
      rows.push([
        String(count),
        `hnsw ef=${ef.efSearch}`,
        ef.recall.toFixed(3),
        ef.p50Ms.toFixed(3),
        ef.p99Ms.toFixed(3),
        `${ef.speedupVsExact.toFixed(1)}x`,
        (hnsw.buildMs / 1000).toFixed(1),
        `${mib(hnsw.fileBytes)} file, RSS ${hnsw.rssDeltaBytes < 0 ? '' : '+'}${mib(hnsw.rssDeltaBytes)}`,
      ]);
    }
  }
  const widths = header.map((title, c) => Math.max(title.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]): string => cells.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  const notes = results.map(
    ({ count, hnsw }) =>
      `N=${count}: HNSW M=${hnsw.M} efConstruction=${hnsw.efConstruction}; build on this thread ${(hnsw.buildMs / 1000).toFixed(1)} s (event-loop delay max ${hnsw.buildLoopDelay.maxMs.toFixed(0)} ms, p99 ${hnsw.buildLoopDelay.p99Ms.toFixed(0)} ms) vs in a worker with its file ${(hnsw.workerBuildMs / 1000).toFixed(1)} s (max ${hnsw.workerLoopDelay.maxMs.toFixed(0)} ms, p99 ${hnsw.workerLoopDelay.p99Ms.toFixed(0)} ms; idle: max ${hnsw.idleLoopDelay.maxMs.toFixed(0)} ms, p99 ${hnsw.idleLoopDelay.p99Ms.toFixed(0)} ms); load (with checksum) ${hnsw.loadMs.toFixed(0)} ms`,
  );
  return [
    `ANN benchmark: ${data}, ${cpus().length} CPUs (shared)${rounds > 1 ? `, medians of ${rounds} rounds` : ''}`,
    line(header),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map(line),
    ...notes,
  ].join('\n');
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function normaliseInto(source: Float32Array, target: Float32Array, offset: number): void {
  let squares = 0;
  for (const value of source) squares += value * value;
  const scale = 1 / Math.sqrt(squares);
  for (let i = 0; i < source.length; i++) target[offset + i] = source[i]! * scale;
}


/** One standard normal sample (Box-Muller). */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function parseSizes(argv: string[]): number[] | undefined {
  const at = argv.indexOf('--sizes');
  if (at === -1) return undefined;
  const sizes = (argv[at + 1] ?? '').split(',').map(Number);
  if (!sizes.length || sizes.some((size) => !Number.isInteger(size) || size < 1)) throw new Error('--sizes takes comma-separated positive integers, e.g. --sizes 10000,100000');
  return sizes;
}

/** `--name N`'s positive integer, or undefined without the flag. */
function positiveIntegerFlag(argv: string[], name: string): number | undefined {
  const at = argv.indexOf(name);
  if (at === -1) return undefined;
  const value = Number(argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} takes a positive integer`);
  return value;
}

export function optionsFromArgv(argv: string[]): AnnBenchOptions {
  const at = argv.indexOf('--store');
  return { sizes: parseSizes(argv), queries: positiveIntegerFlag(argv, '--queries'), rounds: positiveIntegerFlag(argv, '--rounds'), store: at === -1 ? undefined : argv[at + 1] };
}

if (process.argv[1]?.endsWith('ann.ts')) {
  runBench(optionsFromArgv(process.argv)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
