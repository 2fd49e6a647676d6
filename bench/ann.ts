/**
 * HNSW vs exact cosine search on clustered synthetic embeddings: recall@10, query latency,
 * build time, memory. Exact and HNSW queries are interleaved one query at a time so that load
 * from other processes on this shared machine hits both sides alike; read the ratios, not the
 * absolute numbers.
 *
 *   node --import tsx bench/ann.ts [--sizes 10000,100000] [--queries 500]
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ExactVectorIndex, HnswVectorIndex, metadataPathFor } from '../src/core/vectorIndex.js';
import { seededRandom } from '../src/core/seededRandom.js';

export interface AnnBenchOptions {
  sizes?: number[];
  queries?: number;
  /** Where the JSON results go. */
  outFile?: string;
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
  recallAt10: number;
  p50Ms: number;
  p99Ms: number;
  /** Exact p50 / this p50, from the same interleaved run. */
  speedupVsExact: number;
}

interface SizeResult {
  count: number;
  dimensions: number;
  exact: { buildMs: number; p50Ms: number; p99Ms: number; memoryBytes: number };
  hnsw: {
    M: number;
    efConstruction: number;
    buildMs: number;
    rssDeltaBytes: number;
    fileBytes: number;
    saveMs: number;
    loadMs: number;
    bySearchEf: EfResult[];
  };
}

const DIMENSIONS = 384;
const CLUSTERS = 100;
const NOISE = 1;
const K = 10;
const M = 16;
const EF_CONSTRUCTION = 200;
const SEARCH_EFS = [10, 32, 64, 128];

export async function runBench(options: AnnBenchOptions = {}): Promise<unknown> {
  const { sizes = [10_000, 100_000], queries = 500, outFile = join(__dirname, 'results', 'ann.json') } = options;
  const results: SizeResult[] = [];
  for (const count of sizes) {
    console.error(`[ann] N=${count}: generating data`);
    results.push(await benchOneSize(count, queries));
  }
  const report = {
    benchmark: 'ann',
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' },
    data: { kind: 'clustered-gaussian', dimensions: DIMENSIONS, clusters: CLUSTERS, noise: NOISE, queries, k: K },
    results,
  };
  console.log(formatTable(results, queries));
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, JSON.stringify(report, null, 2));
  console.log(`\nJSON: ${outFile}`);
  return report;
}

async function benchOneSize(count: number, queryCount: number): Promise<SizeResult> {
  const shape = { dimensions: DIMENSIONS, clusters: CLUSTERS, noise: NOISE, clusterSeed: 1 };
  const points = clusteredVectors({ ...shape, count, pointSeed: 2 });
  const queries = clusteredVectors({ ...shape, count: queryCount, pointSeed: 3 });

  let started = performance.now();
  const exact = new ExactVectorIndex(DIMENSIONS, count);
  for (let i = 0; i < count; i++) exact.upsert(i, points.row(i));
  const exactBuildMs = performance.now() - started;

  console.error(`[ann] N=${count}: building HNSW (M=${M}, efConstruction=${EF_CONSTRUCTION}, one thread)`);
  const rssBefore = process.memoryUsage().rss;
  started = performance.now();
  const hnsw = HnswVectorIndex.create(DIMENSIONS, { M, efConstruction: EF_CONSTRUCTION, initialCapacity: count });
  for (let i = 0; i < count; i++) {
    hnsw.upsert(i, points.row(i));
    if ((i + 1) % 20_000 === 0) console.error(`[ann]   ${i + 1}/${count} after ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  const buildMs = performance.now() - started;
  const rssDeltaBytes = process.memoryUsage().rss - rssBefore;

  const directory = await mkdtemp(join(tmpdir(), 'docent-ann-'));
  const indexPath = join(directory, 'vectors.hnsw');
  started = performance.now();
  await hnsw.save(indexPath);
  const saveMs = performance.now() - started;
  const fileBytes = (await stat(indexPath)).size + (await stat(metadataPathFor(indexPath))).size;
  started = performance.now();
  await HnswVectorIndex.load(indexPath, DIMENSIONS);
  const loadMs = performance.now() - started;
  await rm(directory, { recursive: true, force: true });

  console.error(`[ann] N=${count}: ${queryCount} queries, exact and HNSW interleaved`);
  // Warm up the JIT and caches on both sides before timing.
  for (let q = 0; q < Math.min(20, queryCount); q++) {
    exact.search(queries.row(q), K);
    for (const ef of SEARCH_EFS) hnsw.search(queries.row(q), K, ef);
  }
  const exactTimes: number[] = [];
  const efTimes = SEARCH_EFS.map(() => [] as number[]);
  const efHits = SEARCH_EFS.map(() => 0);
  for (let q = 0; q < queryCount; q++) {
    const query = queries.row(q);
    let t = performance.now();
    const truth = new Set(exact.search(query, K).map((hit) => hit.label));
    exactTimes.push(performance.now() - t);
    SEARCH_EFS.forEach((ef, e) => {
      t = performance.now();
      const hits = hnsw.search(query, K, ef);
      efTimes[e]!.push(performance.now() - t);
      efHits[e]! += hits.filter((hit) => truth.has(hit.label)).length;
    });
  }
  const exactP50 = percentile(exactTimes, 50);
  return {
    count,
    dimensions: DIMENSIONS,
    exact: { buildMs: exactBuildMs, p50Ms: exactP50, p99Ms: percentile(exactTimes, 99), memoryBytes: count * DIMENSIONS * 4 },
    hnsw: {
      M,
      efConstruction: EF_CONSTRUCTION,
      buildMs,
      rssDeltaBytes,
      fileBytes,
      saveMs,
      loadMs,
      bySearchEf: SEARCH_EFS.map((efSearch, e) => {
        const p50Ms = percentile(efTimes[e]!, 50);
        return { efSearch, recallAt10: efHits[e]! / (queryCount * K), p50Ms, p99Ms: percentile(efTimes[e]!, 99), speedupVsExact: exactP50 / p50Ms };
      }),
    },
  };
}

function formatTable(results: SizeResult[], queryCount: number): string {
  const header = ['N', 'method', 'recall@10', 'p50 ms', 'p99 ms', 'speed-up', 'build s', 'memory'];
  const rows: string[][] = [];
  for (const { count, exact, hnsw } of results) {
    rows.push([String(count), 'exact', '1.000', exact.p50Ms.toFixed(3), exact.p99Ms.toFixed(3), '1.0x', (exact.buildMs / 1000).toFixed(1), `${mib(exact.memoryBytes)} (vectors)`]);
    for (const ef of hnsw.bySearchEf) {
      rows.push([
        String(count),
        `hnsw ef=${ef.efSearch}`,
        ef.recallAt10.toFixed(3),
        ef.p50Ms.toFixed(3),
        ef.p99Ms.toFixed(3),
        `${ef.speedupVsExact.toFixed(1)}x`,
        (hnsw.buildMs / 1000).toFixed(1),
        `${mib(hnsw.fileBytes)} file, RSS +${mib(hnsw.rssDeltaBytes)}`,
      ]);
    }
  }
  const widths = header.map((title, c) => Math.max(title.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]): string => cells.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  const notes = results.map(
    ({ count, hnsw }) => `N=${count}: HNSW M=${hnsw.M} efConstruction=${hnsw.efConstruction}; save ${hnsw.saveMs.toFixed(0)} ms, load (with checksum) ${hnsw.loadMs.toFixed(0)} ms`,
  );
  return [
    `ANN benchmark: ${DIMENSIONS}-d, ${CLUSTERS} clusters, ${queryCount} queries, k=${K}, ${cpus().length} CPUs (shared)`,
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

function parseQueries(argv: string[]): number | undefined {
  const at = argv.indexOf('--queries');
  if (at === -1) return undefined;
  const queries = Number(argv[at + 1]);
  if (!Number.isInteger(queries) || queries < 1) throw new Error('--queries takes a positive integer');
  return queries;
}

if (process.argv[1]?.endsWith('ann.ts')) {
  runBench({ sizes: parseSizes(process.argv), queries: parseQueries(process.argv) }).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
