/**
 * bench:embed — chunks/s at batch 1, 8 and 32 for the built-in models (static and GloVe-SIF) and a
 * BERT-shaped model (MiniLM-sized layers, random weights), next to @huggingface/transformers'
 * feature-extraction on the same ONNX file and Continue's method (one chunk at a time, 10 ms
 * pause). Each row: chunks per wall-clock second and per CPU-second of this process (all its
 * threads), the figure that holds on a shared machine. Run: node --import tsx bench/embed.ts
 * → prints a table, writes bench/results/embed.json
 *
 *   --device auto|cpu|cuda|webgpu|dml|coreml   where the BERT-shaped model runs (default cpu;
 *                                             the word-vector model always runs on the CPU)
 *   --batches 32,128    batch sizes          --only bert    skip GloVe and the baselines
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUILT_IN_MODELS, DEFAULT_BUILT_IN, type BuiltInModel } from '../src/core/embedding/builtInModels.js';
import { createDefaultEmbedder } from '../src/core/embedding/defaultEmbedder.js';
import { readEmbeddingModelFolder } from '../src/core/embedding/modelSpec.js';
import { OnnxEmbedder } from '../src/core/embedding/onnxEmbedder.js';
import { describeDevice, isDeviceChoice, type DeviceChoice } from '../src/core/onnx/session.js';
import type { Embedder } from '../src/core/types.js';
import { writeBertModelFolder } from '../test/support/bertModel.js';

export interface EmbedBenchOptions {
  device?: DeviceChoice;
  batches?: number[];
  /** Only the BERT-shaped model through docent's pool (what scripts/gpu-check.sh times). */
  bertOnly?: boolean;
  /** Chunks embedded per measurement of the built-in models; default 2,048 (the BERT-shaped model: 64). */
  chunks?: number;
  /** Where 40-line chunks come from; default .cache/postgres-docs, else examples/. */
  corpusDir?: string;
  resultsPath?: string;
}

interface Row {
  model: string;
  method: string;
  batch: number | string;
  chunks: number;
  chunksPerSecond: number;
  /**
   * Chunks per second of CPU time (all threads of this process): what the cores would give if the
   * machine were not shared, where wall-clock rates swing with other processes' load.
   */
  chunksPerCpuSecond: number;
}

const ROOT = join(__dirname, '..');
/** The built-in models, side by side (the default one says so). */
const BUILT_IN_ROWS = (Object.keys(BUILT_IN_MODELS) as BuiltInModel[]).map(
  (model) => [`${BUILT_IN_MODELS[model]}${model === DEFAULT_BUILT_IN ? ' (default)' : ''}`, model] as const,
);
const CONTINUE_PAUSE_MS = 10;
/** Texts embedded before timing a built-in model (half per worker). */
const WARM_UP_CHUNKS = 512;

export async function runBench(options: EmbedBenchOptions = {}): Promise<unknown> {
  const chunks = loadChunks(options.corpusDir, options.chunks ?? 2048);
  const bertChunks = chunks.slice(0, 64);
  const device = options.device ?? 'cpu';
  const batches = options.batches ?? [1, 8, 32];
  const rows: Row[] = [];
  let bertDevice = '';
  const work = mkdtempSync(join(tmpdir(), 'docent-bench-embed-'));
  try {
    if (!options.bertOnly) {
      for (const [label, model] of BUILT_IN_ROWS) {
        for (const batch of batches) {
          // Start-up outside the timing: each worker's first session run, and its first few hundred
          // texts, which run while V8 is still compiling the tokenizer (~100 ms per fresh worker here).
          rows.push(await measure(label, 'docent worker pool', batch, chunks, () => createDefaultEmbedder({ device: 'cpu', batchSize: batch, model }), undefined, Math.max(2 * batch, WARM_UP_CHUNKS)));
        }
        // One at a time with a pause: 256 are plenty to time (2,048 would sleep 20 s).
        rows.push(await measureContinue(label, chunks.slice(0, 256), () => createDefaultEmbedder({ device: 'cpu', model })));
      }
    }
    const bertDir = writeBertModelFolder(join(work, 'tiny-bert'), { hidden: 384, layers: 6, maxPositions: 512, maxSeqLength: 256 });
    const spec = readEmbeddingModelFolder(bertDir);
    for (const batch of batches) {
      rows.push(
        await measure(`bert-shaped 384x6 on ${device}`, 'docent worker pool', batch, batch > bertChunks.length ? chunks.slice(0, batch * 2) : bertChunks, () => new OnnxEmbedder(spec, { device, batchSize: batch }), (used) => (bertDevice = used)),
      );
    }
    if (!options.bertOnly) {
      const extractor = await transformersExtractor(work);
      for (const batch of batches) rows.push(await measureTransformers(extractor, batch, bertChunks));
      rows.push(await measureTransformersContinue(extractor, bertChunks));
      await extractor.dispose();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`bert-shaped model ran on: ${bertDevice}`);
  if (options.bertOnly) {
    console.table(rows.map((row) => ({ ...row, chunksPerSecond: Number(row.chunksPerSecond.toFixed(1)), chunksPerCpuSecond: Number(row.chunksPerCpuSecond.toFixed(1)) })));
    return { rows, device: bertDevice };
  }

  const ratio = (model: string) => {
    const best = Math.max(...rows.filter((row) => row.model === model && row.method === 'docent worker pool').map((row) => row.chunksPerSecond));
    const continueRow = rows.find((row) => row.model.startsWith(model.split(' on ')[0]!) && row.method.startsWith("Continue's method"))!;
    return best / continueRow.chunksPerSecond;
  };
  const result = {
    date: new Date().toISOString(),
    cpus: (await import('node:os')).availableParallelism(),
    rows,
    bertDevice,
    speedupOverContinue: {
      ...Object.fromEntries(BUILT_IN_ROWS.map(([label]) => [label, ratio(label)])),
      [`bert-shaped 384x6 on ${device}`]: ratio(`bert-shaped 384x6 on ${device}`),
    },
  };
  console.table(rows.map((row) => ({ ...row, chunksPerSecond: Number(row.chunksPerSecond.toFixed(1)), chunksPerCpuSecond: Number(row.chunksPerCpuSecond.toFixed(1)) })));
  console.log(`speed-up of the best docent batch over Continue's method: ${Object.entries(result.speedupOverContinue).map(([model, value]) => `${model} ×${value.toFixed(1)}`).join(', ')}`);
  const resultsPath = options.resultsPath ?? join(ROOT, 'bench', 'results', 'embed.json');
  mkdirSync(join(resultsPath, '..'), { recursive: true });
  writeFileSync(resultsPath, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** 40-line chunks of the corpus (markup stripped), cycled to `count`. */
function loadChunks(corpusDir: string | undefined, count: number): string[] {
  const dir = corpusDir ?? [join(ROOT, '.cache', 'postgres-docs'), join(ROOT, 'examples')].find((path) => existsSync(path))!;
  // Printed: examples/ (used when .cache/postgres-docs is absent) gives other chunks, so rates are not comparable.
  console.log(`chunks from ${relative(ROOT, dir) || dir}`);
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((path) => /\.(html?|md|txt)$/.test(path)).sort();
  const chunks: string[] = [];
  for (const file of files) {
    const lines = readFileSync(join(dir, file), 'utf8').replace(/<[^>]+>/g, ' ').split('\n').filter((line) => line.trim());
    for (let start = 0; start < lines.length && chunks.length < count; start += 40) chunks.push(lines.slice(start, start + 40).join('\n'));
    if (chunks.length >= count) break;
  }
  if (chunks.length === 0) throw new Error(`no text chunks in ${dir}`);
  while (chunks.length < count) chunks.push(chunks[chunks.length % Math.max(1, chunks.length)]!);
  return chunks;
}

async function measure(model: string, method: string, batch: number, chunks: string[], create: () => OnnxEmbedder, onDevice?: (device: string) => void, warmUp = 2): Promise<Row> {
  const embedder = create();
  try {
    await embedder.embed(chunks.slice(0, warmUp)); // start workers and sessions outside the timing
    onDevice?.(describeDevice(embedder.activeDevice!));
    const started = startClock();
    await embedder.embed(chunks);
    return row(model, method, batch, chunks.length, started);
  } finally {
    await embedder.dispose();
  }
}

async function measureContinue(model: string, chunks: string[], create: () => Embedder): Promise<Row> {
  const embedder = create();
  try {
    await embedder.embed(chunks.slice(0, 1));
    const started = startClock();
    for (const chunk of chunks) {
      await embedder.embed([chunk]);
      await sleep(CONTINUE_PAUSE_MS);
    }
    return row(model, `Continue's method (1 chunk, ${CONTINUE_PAUSE_MS} ms pause)`, 1, chunks.length, started);
  } finally {
    await embedder.dispose();
  }
}

type Extractor = ((texts: string[], options: { pooling: 'mean'; normalize: boolean }) => Promise<unknown>) & { dispose(): Promise<void> };

async function transformersExtractor(modelsDir: string): Promise<Extractor> {
  const { env, pipeline } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = `${modelsDir}/`;
  return (await pipeline('feature-extraction', 'tiny-bert', { dtype: 'fp32', device: 'cpu' })) as unknown as Extractor;
}

async function measureTransformers(extractor: Extractor, batch: number, chunks: string[]): Promise<Row> {
  await extractor(chunks.slice(0, 2), { pooling: 'mean', normalize: true });
  const started = startClock();
  for (let start = 0; start < chunks.length; start += batch) await extractor(chunks.slice(start, start + batch), { pooling: 'mean', normalize: true });
  return row('bert-shaped 384x6', '@huggingface/transformers (main thread)', batch, chunks.length, started);
}

/** Continue's indexer uses transformers.js one chunk at a time with a pause in between. */
async function measureTransformersContinue(extractor: Extractor, chunks: string[]): Promise<Row> {
  const started = startClock();
  for (const chunk of chunks) {
    await extractor([chunk], { pooling: 'mean', normalize: true });
    await sleep(CONTINUE_PAUSE_MS);
  }
  return row('bert-shaped 384x6', `Continue's method (transformers.js, 1 chunk, ${CONTINUE_PAUSE_MS} ms pause)`, 1, chunks.length, started);
}

interface Clock {
  wall: number;
  cpu: NodeJS.CpuUsage;
}

function startClock(): Clock {
  return { wall: performance.now(), cpu: process.cpuUsage() };
}

function row(model: string, method: string, batch: number | string, chunks: number, started: Clock): Row {
  const cpu = process.cpuUsage(started.cpu);
  return {
    model,
    method,
    batch,
    chunks,
    chunksPerSecond: chunks / ((performance.now() - started.wall) / 1000),
    chunksPerCpuSecond: chunks / ((cpu.user + cpu.system) / 1e6),
  };
}

export function optionsFromArgv(argv: string[]): EmbedBenchOptions {
  const flag = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const device = flag('--device');
  if (device !== undefined && !isDeviceChoice(device)) throw new Error(`--device must be one of auto, cpu, cuda, webgpu, dml, coreml, not "${device}"`);
  return { device, batches: flag('--batches')?.split(',').map(Number), bertOnly: flag('--only') === 'bert' };
}

if (require.main === module) {
  runBench(optionsFromArgv(process.argv.slice(2))).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
