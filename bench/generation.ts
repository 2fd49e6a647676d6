/**
 * bench:generation — continuous batching against one-after-another on generated decoders big
 * enough for CPU numbers to mean something, the time to first token of a request that arrives
 * while a long generation runs, the decoder's own batch-8 / batch-1 step time (the ceiling for
 * any scheduler), the paper decode ceiling of a 0.5B fp16 model on an H100; then host-side
 * costs: token choice at a 152k vocabulary (samplingBench.ts), the KV bytes a non-resident
 * decode step moves and what copying them costs, and the event-loop delay of the serving thread
 * with the decoder in a worker against the same thread.
 *
 *   node --import tsx bench/generation.ts [--tokens 32] [--threads 2,1] [--repeats 2] [--device auto]
 *   node --import tsx bench/generation.ts --layers 2 --hidden 2048 --vocab 8192   (one custom model)
 *   node --import tsx bench/generation.ts --quick            (small model, one repeat: scripts/gpu-check.sh)
 *   node --import tsx bench/generation.ts --only sampling|copies|lag
 *
 * Prints a table and writes bench/results/generation.json.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createSession, isDeviceChoice, type DeviceChoice } from '../src/core/onnx/session.js';
import { GenerationEngine, type GenerationRequest } from '../src/generation/engine.js';
import type { RunReport } from '../src/generation/decoderRuntime.js';
import { GREEDY } from '../src/generation/sampling.js';
import { writeDecoderFolder, type DecoderSpec } from '../test/support/decoderModel.js';
import { runSamplingBench } from './samplingBench.js';
import { medianRunMs } from './sessionTiming.js';

export interface GenerationBenchOptions {
  layers?: number;
  hidden?: number;
  vocab?: number;
  /** Tokens generated per request. */
  tokens?: number;
  concurrency?: number[];
  /**
   * onnxruntime intra-op thread counts, each measured on the same built model (default: every
   * model's own list). One thread is steadier on a shared machine; all cores is what serve uses.
   */
  threads?: number[];
  /** Each measurement is repeated and the fastest run kept, to shed noise from other processes. */
  repeats?: number;
  device?: DeviceChoice;
  /** A small model, one repeat, fewer streams: the quick run of scripts/gpu-check.sh. */
  quick?: boolean;
  /** Run one section only. */
  only?: 'batching' | 'sampling' | 'copies' | 'lag';
  log?: (line: string) => void;
}

interface RunStats {
  tokensPerSecond: number;
  meanInterTokenMs: number;
  meanTtftMs: number;
}

interface ConcurrencyRow {
  streams: number;
  batched: RunStats;
  sequential: RunStats;
}

const PROMPT_WORDS = 'how do I rotate the signing keys for staging and where is the on call runbook for the payments cluster'.split(' ');

function promptFor(engine: GenerationEngine, index: number): number[] {
  const words = Array.from({ length: 12 }, (_, i) => PROMPT_WORDS[(index * 5 + i * 3) % PROMPT_WORDS.length]);
  return engine.codec.encode(words.join(' '), true);
}

/** Runs the requests (all at once or one by one) and measures throughput and per-token gaps. */
async function measure(engine: GenerationEngine, prompts: number[][], tokens: number, concurrent: boolean): Promise<RunStats> {
  const gaps: number[] = [];
  const ttfts: number[] = [];
  const run = (promptIds: number[]) => {
    const submittedAt = performance.now();
    let last: number | undefined;
    const request: GenerationRequest = {
      promptIds,
      maxTokens: tokens,
      sampling: GREEDY,
      ignoreEos: true,
      onToken: () => {
        const now = performance.now();
        if (last === undefined) ttfts.push(now - submittedAt);
        else gaps.push(now - last);
        last = now;
      },
    };
    return engine.submit(request);
  };
  const started = performance.now();
  if (concurrent) await Promise.all(prompts.map(run));
  else for (const prompt of prompts) await run(prompt);
  const seconds = (performance.now() - started) / 1000;
  return { tokensPerSecond: (prompts.length * tokens) / seconds, meanInterTokenMs: mean(gaps), meanTtftMs: mean(ttfts) };
}

/** A short request submitted once a long generation is well under way. */
async function lateArrival(engine: GenerationEngine): Promise<{ ttftMs: number; decodeSteps: number; meanStepMs: number }> {
  const gaps: number[] = [];
  let last: number | undefined;
  let late: Promise<unknown> | undefined;
  let submittedAt = 0;
  let submittedStep = 0;
  let ttftMs = -1;
  let steps = -1;
  const long = engine.submit({
    promptIds: promptFor(engine, 0),
    maxTokens: 96,
    sampling: GREEDY,
    ignoreEos: true,
    onToken: () => {
      const now = performance.now();
      if (last !== undefined) gaps.push(now - last);
      last = now;
      if (late || gaps.length < 24) return;
      // Submit from a timer so the request arrives mid-step, like a real client's would.
      late = new Promise((resolve) => setTimeout(resolve, Math.min(...gaps) / 2)).then(() => {
        submittedAt = performance.now();
        submittedStep = engine.metrics.decodeSteps;
        return engine.submit({
          promptIds: promptFor(engine, 3),
          maxTokens: 4,
          sampling: GREEDY,
          ignoreEos: true,
          onToken: () => {
            if (ttftMs >= 0) return;
            ttftMs = performance.now() - submittedAt;
            steps = engine.metrics.decodeSteps - submittedStep;
          },
        });
      });
    },
  });
  await long;
  await late;
  return { ttftMs, decodeSteps: steps, meanStepMs: mean(gaps.slice(0, 24)) };
}

/**
 * The decoder alone, no engine: median time of one decode step at each batch size (past of 64
 * tokens). Batch sizes take turns, so noise from other processes hits them alike. The batch-8 /
 * batch-1 ratio bounds what any batching scheduler can do with this model on this machine.
 */
async function rawStepMs(modelPath: string, spec: DecoderSpec, threads: number, batches: number[], device: DeviceChoice): Promise<Record<number, number>> {
  const { session } = await createSession(modelPath, device, { intraOpNumThreads: threads, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const past = 64;
  const int64 = (length: number, value: number, dims: number[]) => new ort.Tensor('int64', new BigInt64Array(length).fill(BigInt(value)), dims);
  const headDim = spec.hidden / spec.heads;
  const feedsFor = (batch: number): Record<string, ort.Tensor> => {
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(batch, 5, [batch, 1]),
      attention_mask: int64(batch * (past + 1), 1, [batch, past + 1]),
      position_ids: int64(batch, past, [batch, 1]),
    };
    for (const name of session.inputNames.filter((n) => n.startsWith('past'))) {
      feeds[name] = new ort.Tensor('float32', new Float32Array(batch * spec.heads * past * headDim), [batch, spec.heads, past, headDim]);
    }
    return feeds;
  };
  try {
    const medians = await medianRunMs(session, batches.map(feedsFor), 9);
    return Object.fromEntries(batches.map((batch, i) => [batch, medians[i]!]));
  } finally {
    await session.release();
  }
}

function fastest(best: RunStats | undefined, run: RunStats): RunStats {
  return best && best.tokensPerSecond >= run.tokensPerSecond ? best : run;
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Decode ceiling from memory bandwidth: every step reads all weights once plus each sequence's KV cache. */
function h100Estimate(): { lines: string[]; stepsPerSecond: number } {
  const params = 0.5e9;
  const bytesPerParam = 2; // fp16
  const bandwidth = 3.35e12; // H100 SXM HBM3, bytes/s
  const weightBytes = params * bytesPerParam;
  // Qwen2.5-0.5B-like: 24 layers, 2 KV heads × 64 dims, fp16: K and V per token per layer.
  const kvBytesPerToken = 24 * 2 * 2 * 64 * 2;
  const context = 1024;
  const kvPerSequence = kvBytesPerToken * context;
  const stepsPerSecond = bandwidth / weightBytes;
  const lines = [
    'Paper estimate, H100 SXM (3.35 TB/s HBM3), 0.5B-parameter fp16 model:',
    `  weights read per decode step = 0.5e9 params × 2 B = ${(weightBytes / 1e9).toFixed(2)} GB`,
    `  batch 1 ceiling = 3.35e12 B/s ÷ 1.0e9 B = ${stepsPerSecond.toFixed(0)} steps/s ≈ ${stepsPerSecond.toFixed(0)} tokens/s (${(1000 / stepsPerSecond).toFixed(2)} ms/token)`,
    `  KV cache read per sequence per step (24 layers × 2 × 2 heads × 64 × 2 B = ${kvBytesPerToken / 1024} KiB/token, ${context} tokens) = ${(kvPerSequence / 1e6).toFixed(1)} MB`,
  ];
  for (const batch of [8, 64, 256]) {
    const bytes = weightBytes + batch * kvPerSequence;
    const steps = bandwidth / bytes;
    lines.push(`  batch ${String(batch).padStart(3)}: (${(weightBytes / 1e9).toFixed(2)} GB + ${batch} × ${(kvPerSequence / 1e6).toFixed(1)} MB) per step → ${steps.toFixed(0)} steps/s × ${batch} = ${(steps * batch).toFixed(0)} tokens/s`);
  }
  lines.push('  compute check: 2 FLOP/param/token = 1 GFLOP/token; ~990 TFLOP/s dense fp16 → ~990k tokens/s, so decode stays bandwidth-bound up to batch ~250.');
  return { lines, stepsPerSecond };
}

interface BenchModel {
  label: string;
  spec: DecoderSpec;
  threads: number[];
}

/**
 * Llama-like proportions (hidden 2048, head size 128) so that, as on a GPU, a batch-1 step is
 * bound by reading the weights; the widest shape that keeps the bench short. Measured with both
 * cores (onnxruntime's default, what serve uses) and with one. The earlier narrow model (8 layers,
 * hidden 512) is `--layers 8 --hidden 512 --vocab 16384 --threads 1`.
 */
const MODELS: BenchModel[] = [
  { label: 'wide (2 layers, hidden 2048)', spec: { layers: 2, hidden: 2048, heads: 16, intermediate: 5461, vocab: 8192, seed: 1, maxPositions: 512 }, threads: [2, 1] },
];

function parameterCount(spec: DecoderSpec): number {
  return spec.layers * (4 * spec.hidden * spec.hidden + 3 * spec.hidden * spec.intermediate!) + 2 * spec.vocab * spec.hidden;
}

type Settings = Required<Pick<GenerationBenchOptions, 'tokens' | 'concurrency' | 'repeats' | 'log'>> & { threads?: number[]; device?: DeviceChoice };

async function benchModel(model: BenchModel, options: Settings) {
  const { spec, label } = model;
  const parameters = parameterCount(spec);
  const dir = await mkdtemp(join(tmpdir(), 'docent-bench-generation-'));
  try {
    options.log(`\nBuilding the ${label} decoder: ${spec.layers} layers, hidden ${spec.hidden}, MLP ${spec.intermediate}, vocab ${spec.vocab}: ${(parameters / 1e6).toFixed(1)}M parameters (fp32, ${((parameters * 4) / 1e6).toFixed(0)} MB)…`);
    await writeDecoderFolder(dir, spec);
    const runs = [];
    for (const threads of options.threads ?? model.threads) runs.push(await benchThreads(dir, model, parameters, threads, options));
    return runs;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchThreads(dir: string, model: BenchModel, parameters: number, threads: number, options: Settings) {
  const { tokens, concurrency, repeats, log } = options;
  const { spec, label } = model;
  const engine = await GenerationEngine.load(dir, { device: options.device ?? 'auto', maxBatch: Math.max(...concurrency), intraOpThreads: threads });
  let rows: ConcurrencyRow[];
  let late: Awaited<ReturnType<typeof lateArrival>>;
  try {
    await measure(engine, [promptFor(engine, 0)], 8, false); // warm-up
    rows = [];
    for (const streams of concurrency) {
      const prompts = Array.from({ length: streams }, (_, i) => promptFor(engine, i));
      let batched: RunStats | undefined;
      let sequential: RunStats | undefined;
      for (let r = 0; r < repeats; r++) {
        batched = fastest(batched, await measure(engine, prompts, tokens, true));
        sequential = fastest(sequential, await measure(engine, prompts, tokens, false));
      }
      rows.push({ streams, batched: batched!, sequential: sequential! });
    }
    late = await lateArrival(engine);
  } finally {
    await engine.dispose(); // frees the weights before the raw session loads its own copy
  }
  const raw = await rawStepMs(join(dir, 'model.onnx'), spec, threads, [1, 8, 16], options.device ?? 'auto');
  const single = rows.find((r) => r.streams === 1)?.batched;
  const eight = rows.find((r) => r.streams === 8)?.batched;

  log(
    `Generation on ${engine.device.provider.toUpperCase()} (${threads} intra-op thread(s), best of ${repeats}): ${label}, ${(parameters / 1e6).toFixed(1)}M parameters, ${tokens} tokens per request, greedy`,
  );
  log('streams | batched tok/s | sequential tok/s | speedup | batched ITL ms | sequential ITL ms | ITL change | batched TTFT ms');
  log('------- | ------------- | ---------------- | ------- | -------------- | ----------------- | ---------- | ---------------');
  for (const { streams, batched, sequential } of rows) {
    log(
      [
        String(streams).padStart(7),
        batched.tokensPerSecond.toFixed(1).padStart(13),
        sequential.tokensPerSecond.toFixed(1).padStart(16),
        `${(batched.tokensPerSecond / sequential.tokensPerSecond).toFixed(2)}×`.padStart(7),
        batched.meanInterTokenMs.toFixed(1).padStart(14),
        sequential.meanInterTokenMs.toFixed(1).padStart(17),
        `${(((batched.meanInterTokenMs - sequential.meanInterTokenMs) / sequential.meanInterTokenMs) * 100).toFixed(0)}%`.padStart(10),
        batched.meanTtftMs.toFixed(1).padStart(15),
      ].join(' | '),
    );
  }
  const targets = {
    eightStreamSpeedup: single && eight ? eight.tokensPerSecond / single.tokensPerSecond : undefined,
    eightStreamItlIncrease: single && eight ? eight.meanInterTokenMs / single.meanInterTokenMs - 1 : undefined,
    lateFirstTokenDecodeSteps: late.decodeSteps,
    rawStepRatio8to1: raw[8]! / raw[1]!,
  };
  if (targets.eightStreamSpeedup !== undefined && targets.eightStreamItlIncrease !== undefined) {
    log(
      `8 streams vs 1: ${targets.eightStreamSpeedup.toFixed(2)}× aggregate tokens/s (target ≥ 5×), inter-token latency ${(targets.eightStreamItlIncrease * 100).toFixed(0)}% higher (target ≤ 30%)`,
    );
  }
  log(
    `Decoder alone (no engine), median step: batch 1 ${raw[1]!.toFixed(1)} ms, batch 8 ${raw[8]!.toFixed(1)} ms (${targets.rawStepRatio8to1.toFixed(2)}× batch 1), batch 16 ${raw[16]!.toFixed(1)} ms → ` +
      `ceiling for any scheduler here: ${((8 * raw[1]!) / raw[8]!).toFixed(2)}× aggregate tokens/s at 8 streams with inter-token latency +${((targets.rawStepRatio8to1 - 1) * 100).toFixed(0)}%`,
  );
  log(
    `Late request while a long generation runs: first token after ${late.ttftMs.toFixed(1)} ms = ${late.decodeSteps} decode step(s) of the running batch (mean step ${late.meanStepMs.toFixed(1)} ms; target ≤ 2 steps)`,
  );
  return { label, threads, model: { ...spec, parameters }, rows, lateArrival: late, rawDecoderStepMs: raw, targets, device: engine.device };
}

/**
 * What a decode step moves when the cache lives on the host (CPU, and CUDA/DirectML through
 * onnxruntime-node 1.30): the whole past in, the whole present out. Sizes for Qwen2.5-0.5B
 * (24 layers × K and V × 2 KV heads × 64 dims × fp16 = 12 KiB per token), the time this machine
 * takes to copy them once in memory, and a PCIe 4.0 ×16 estimate (≈ 25 GB/s achieved) for the
 * host ↔ device transfer that a resident cache (WebGPU here) does not make.
 */
function copyCost(log: (line: string) => void) {
  const bytesPerToken = 24 * 2 * 2 * 64 * 2;
  const rows = [];
  log('\nKV bytes per decode step with a host-resident cache (Qwen2.5-0.5B geometry, 12 KiB/token; past in + present out):');
  log('batch | context | bytes per step | host memcpy ms (measured here) | PCIe 4.0 x16 ms (estimate, 25 GB/s) | resident (WebGPU): logits only');
  log('----- | ------- | -------------- | ------------------------------ | ----------------------------------- | ------------------------------');
  for (const batch of [1, 8]) {
    for (const context of [1024, 4096]) {
      const bytes = 2 * batch * context * bytesPerToken;
      const source = new Uint8Array(bytes / 2).fill(1);
      const target = new Uint8Array(bytes / 2);
      const times: number[] = [];
      for (let round = 0; round < 5; round++) {
        const started = performance.now();
        target.set(source); // past in
        source.set(target); // present out
        times.push(performance.now() - started);
      }
      const memcpyMs = times.sort((a, b) => a - b)[2]!;
      const pcieMs = (bytes / 25e9) * 1000;
      const logitsBytes = batch * 151_936 * 4;
      rows.push({ batch, context, bytes, memcpyMs, pcieMs, residentBytes: logitsBytes });
      log(
        `${String(batch).padStart(5)} | ${String(context).padStart(7)} | ${(bytes / 1e6).toFixed(1).padStart(11)} MB | ${memcpyMs.toFixed(1).padStart(30)} | ${pcieMs.toFixed(2).padStart(35)} | ${(logitsBytes / 1e6).toFixed(2)} MB`,
      );
    }
  }
  return { bytesPerToken, rows };
}

/**
 * Event-loop delay of the calling thread while 8 streams generate, decoder in a worker (what
 * serve does) against the decoder on the same thread: with the latter, every session.run
 * blocks the thread that streams HTTP for the whole step.
 */
async function eventLoopLag(log: (line: string) => void, device: DeviceChoice) {
  const dir = await mkdtemp(join(tmpdir(), 'docent-bench-lag-'));
  const spec: DecoderSpec = { layers: 2, hidden: 1024, heads: 16, intermediate: 2730, vocab: 8192, seed: 3, maxPositions: 256 };
  const results: Record<string, { p50Ms: number; p99Ms: number; maxMs: number; stepMs: number; hostBytesPerStep: number }> = {};
  try {
    await writeDecoderFolder(dir, spec);
    for (const thread of ['inline', 'worker'] as const) {
      const reports: RunReport[] = [];
      const engine = await GenerationEngine.load(dir, { device, thread, maxBatch: 8, onRun: (report) => reports.push(report) });
      try {
        await engine.submit({ promptIds: [1, 5, 6, 7], maxTokens: 4, sampling: GREEDY, ignoreEos: true });
        reports.length = 0;
        const histogram = monitorEventLoopDelay({ resolution: 1 });
        histogram.enable();
        await Promise.all(Array.from({ length: 8 }, (_, i) => engine.submit({ promptIds: [1, 10 + i, 20 + i, 30 + i, 40 + i], maxTokens: 32, sampling: GREEDY, ignoreEos: true })));
        histogram.disable();
        const decodes = reports.filter((r) => r.kind === 'decode');
        results[thread] = {
          p50Ms: histogram.percentile(50) / 1e6,
          p99Ms: histogram.percentile(99) / 1e6,
          maxMs: histogram.max / 1e6,
          stepMs: decodes.reduce((sum, r) => sum + r.runMs, 0) / decodes.length,
          hostBytesPerStep: decodes.reduce((sum, r) => sum + r.inputBytes + r.outputBytes, 0) / decodes.length,
        };
      } finally {
        await engine.dispose();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  log(`\nEvent-loop delay of the serving thread, 8 streams × 32 tokens (2 layers, hidden 1024, vocab 8192) on ${device}:`);
  log('decoder runs on     | delay p50 ms | p99 ms | max ms | mean session.run ms per step | host tensor bytes per decode step (in + out)');
  log('------------------- | ------------ | ------ | ------ | ---------------------------- | -------------------------------------------');
  for (const [thread, r] of Object.entries(results)) {
    log(
      `${(thread === 'worker' ? 'a worker (serve)' : 'the same thread').padEnd(19)} | ${r.p50Ms.toFixed(1).padStart(12)} | ${r.p99Ms.toFixed(1).padStart(6)} | ${r.maxMs.toFixed(1).padStart(6)} | ${r.stepMs.toFixed(1).padStart(28)} | ${(r.hostBytesPerStep / 1e6).toFixed(2)} MB`,
    );
  }
  return results;
}

export async function runBench(options: GenerationBenchOptions = {}): Promise<unknown> {
  const settings = {
    log: options.log ?? ((line: string) => console.log(line)),
    tokens: options.tokens ?? (options.quick ? 16 : 32),
    concurrency: options.concurrency ?? (options.quick ? [1, 8] : [1, 2, 4, 8, 16]),
    threads: options.threads,
    repeats: options.repeats ?? (options.quick ? 1 : 2),
    device: options.device,
  };
  const run = (section: NonNullable<GenerationBenchOptions['only']>) => options.only === undefined || options.only === section;
  const custom = options.layers !== undefined || options.hidden !== undefined || options.vocab !== undefined;
  const hidden = options.hidden ?? 2048;
  const models: BenchModel[] = custom
    ? [
        {
          label: 'custom',
          spec: { layers: options.layers ?? 2, hidden, heads: hidden / 64, intermediate: Math.round((hidden * 8) / 3), vocab: options.vocab ?? 8192, seed: 1, maxPositions: 512 },
          threads: [2],
        },
      ]
    : options.quick
      ? [{ label: 'quick (2 layers, hidden 512)', spec: { layers: 2, hidden: 512, heads: 8, intermediate: 1365, vocab: 8192, seed: 1, maxPositions: 512 }, threads: [2] }]
      : MODELS;
  const result: Record<string, unknown> = { tokensPerRequest: settings.tokens, repeats: settings.repeats, device: settings.device ?? 'auto' };
  if (run('batching')) {
    const results = [];
    for (const model of models) results.push(...(await benchModel(model, settings)));
    const estimate = h100Estimate();
    settings.log('');
    for (const line of estimate.lines) settings.log(line);
    result.models = results;
    result.h100 = { stepsPerSecondBatch1: estimate.stepsPerSecond, explanation: estimate.lines };
  }
  if (run('sampling')) result.sampling = await runSamplingBench(settings.log, options.quick ? 3 : 9, !options.quick);
  if (run('copies')) result.kvCopies = copyCost(settings.log);
  if (run('lag')) result.eventLoopLag = await eventLoopLag(settings.log, settings.device ?? 'auto');
  const resultsDir = join(__dirname, 'results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, 'generation.json'), JSON.stringify(result, null, 2));
  settings.log(`\nwrote ${join('bench', 'results', 'generation.json')}`);
  return result;
}

function numberFlag(argv: string[], name: string): number | undefined {
  const at = argv.indexOf(name);
  return at >= 0 ? Number(argv[at + 1]) : undefined;
}

function stringFlag(argv: string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
}

function deviceFlag(argv: string[]): DeviceChoice | undefined {
  const value = stringFlag(argv, '--device');
  if (value === undefined) return undefined;
  if (!isDeviceChoice(value)) throw new Error(`--device must be one of auto, cpu, cuda, webgpu, dml, coreml, not "${value}"`);
  return value;
}

function listFlag(argv: string[], name: string): number[] | undefined {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1]!.split(',').map(Number) : undefined;
}

export function optionsFromArgv(argv: string[]): GenerationBenchOptions {
  return {
    tokens: numberFlag(argv, '--tokens'),
    layers: numberFlag(argv, '--layers'),
    hidden: numberFlag(argv, '--hidden'),
    vocab: numberFlag(argv, '--vocab'),
    threads: listFlag(argv, '--threads'),
    repeats: numberFlag(argv, '--repeats'),
    device: deviceFlag(argv),
    quick: argv.includes('--quick'),
    only: stringFlag(argv, '--only') as GenerationBenchOptions['only'],
  };
}

if (process.argv[1]?.endsWith('generation.ts')) {
  runBench(optionsFromArgv(process.argv.slice(2))).catch(
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
