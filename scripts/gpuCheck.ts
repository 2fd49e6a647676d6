/**
 * The GPU check behind scripts/gpu-check.sh: one table of what this machine's execution
 * providers do with Docent's decoder and embedder. Rows: which providers load and where
 * onnxruntime placed the nodes; decode step time at batch 1 and 8 and two context lengths, with
 * the host bytes each step moved; batched == solo on each device; embedding throughput at batch
 * 32 and 128; bench:generation --quick. A provider that does not load gets one row saying why
 * (onnxruntime's own words) and its measurements are skipped.
 *
 * `--dry-run` (and any machine without a GPU provider that loads) measures the CPU rows only,
 * on small models and short contexts, in well under a minute: CI runs it so the script itself
 * keeps working. Writes bench/results/gpu-check.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEmbeddingModelFolder } from '../src/core/embedding/modelSpec.js';
import { OnnxEmbedder } from '../src/core/embedding/onnxEmbedder.js';
import { cpuNodeShare, probeSession } from '../src/core/onnx/placement.js';
import { gpuProvidersFor, preflight, providerConfig, type DeviceChoice } from '../src/core/onnx/session.js';
import type { RunReport } from '../src/generation/decoderRuntime.js';
import { GenerationEngine } from '../src/generation/engine.js';
import { GREEDY } from '../src/generation/sampling.js';
import { writeBertModelFolder } from '../test/support/bertModel.js';
import { writeDecoderFolder, type DecoderSpec } from '../test/support/decoderModel.js';

interface Row {
  check: string;
  device: string;
  result: string;
  detail: string;
}

const rows: Row[] = [];
const dryRunAsked = process.argv.includes('--dry-run');
let failures = 0;

function row(check: string, device: string, result: string, detail = ''): void {
  rows.push({ check, device, result, detail });
  console.error(`[gpu-check] ${check} · ${device}: ${result}${detail ? ` (${detail})` : ''}`);
}

/** Qwen2.5-0.5B's widths (hidden 896, 14 heads, 2 KV heads of 64, MLP 4864, 151,936 tokens), 4 of its 24 layers. */
const GPU_DECODER: DecoderSpec = { layers: 4, hidden: 896, heads: 14, kvHeads: 2, intermediate: 4864, vocab: 151_936, seed: 7, maxPositions: 4200, layout: 'genai-gqa', dtype: 'float16' };
const SMALL_DECODER: DecoderSpec = { layers: 2, hidden: 64, heads: 4, kvHeads: 2, vocab: 512, seed: 11, maxPositions: 320, layout: 'genai-gqa' };

function environmentRows(): void {
  for (const [tool, args] of [
    ['nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader']],
    ['vulkaninfo', ['--summary']],
  ] as const) {
    const result = spawnSync(tool, args, { encoding: 'utf8', timeout: 20_000 });
    if (result.error || result.status !== 0) {
      row('environment', tool, 'absent', result.error ? String((result.error as NodeJS.ErrnoException).code ?? result.error.message) : `exit ${result.status}`);
      continue;
    }
    const text = tool === 'vulkaninfo' ? result.stdout.split('\n').filter((line) => /deviceName|driverName|apiVersion/.test(line)).map((line) => line.trim()).join('; ') : result.stdout.trim().replace(/\n/g, '; ');
    row('environment', tool, 'present', text.slice(0, 200));
  }
}

/** Whether each provider loads the decoder, and where onnxruntime placed its nodes. */
async function providerRows(modelPath: string, providers: string[]): Promise<Map<string, string | undefined>> {
  const reasons = new Map<string, string | undefined>();
  for (const provider of providers) {
    const blocked = provider === 'cpu' ? undefined : preflight(provider);
    if (blocked) {
      reasons.set(provider, blocked);
      row('provider loads', provider, 'no', blocked);
      continue;
    }
    const probe = await probeSession(modelPath, { provider: providerConfig(provider) });
    if (!probe.created) {
      const reason = [probe.error?.split('\n')[0], ...probe.libraryErrors, ...probe.driverWarnings].filter(Boolean).join('; ');
      reasons.set(provider, reason);
      row('provider loads', provider, 'no', reason.slice(0, 300));
      continue;
    }
    reasons.set(provider, undefined);
    const placement = probe.placement;
    const share = placement ? cpuNodeShare(placement) : undefined;
    row(
      'provider loads',
      provider,
      'yes',
      placement && share
        ? `${Object.entries(placement.nodes).map(([ep, n]) => `${ep} ${n}`).join(', ')}; ${share.cpu} of ${share.total} on the CPU; ${placement.hostCopies} host copies`
        : 'placement not logged',
    );
  }
  return reasons;
}

/** Median session time and host bytes of decode steps at `batch` rows on a past of about `context` tokens. */
async function decodeRows(dir: string, provider: string, contexts: number[], vocab: number): Promise<void> {
  const reports: RunReport[] = [];
  const engine = await GenerationEngine.load(dir, { device: provider as DeviceChoice, maxBatch: 8, prefillChunk: 512, prefillBudget: 4096, onRun: (r) => reports.push(r) });
  try {
    for (const context of contexts) {
      for (const batch of [1, 8]) {
        reports.length = 0;
        const prompt = Array.from({ length: context }, (_, i) => 3 + ((i * 7919) % (vocab - 3)));
        await Promise.all(Array.from({ length: batch }, () => engine.submit({ promptIds: prompt, maxTokens: 12, sampling: GREEDY, ignoreEos: true })));
        const steps = reports.filter((r) => r.kind === 'decode' && r.rows === batch).map((r) => r);
        const times = steps.map((r) => r.runMs).sort((a, b) => a - b);
        const median = times[Math.floor(times.length / 2)] ?? NaN;
        const bytes = steps.length ? (steps[0]!.inputBytes + steps[0]!.outputBytes) / 1e6 : NaN;
        row(`decode step, batch ${batch}, context ${context}`, `${provider}${engine.runtime.resident ? ' (resident)' : ''}`, `${median.toFixed(2)} ms`, `${bytes.toFixed(2)} MB host tensors per step`);
      }
    }
  } finally {
    await engine.dispose();
  }
}

async function batchedEqualsSolo(work: string, provider: string): Promise<void> {
  const prompts = ['hello', 'How do I rotate the API signing keys for the staging cluster?', 'the quick brown fox jumps over the lazy dog', 'ok'];
  for (const layout of ['optimum', 'genai-gqa'] as const) {
    const dir = join(work, `equal-${layout}`);
    await writeDecoderFolder(dir, { layers: 2, hidden: 64, heads: 4, kvHeads: 2, vocab: 512, seed: 11, maxPositions: 256, layout });
    const engine = await GenerationEngine.load(dir, { device: provider as DeviceChoice, prefillChunk: 8, prefillBudget: 32 });
    try {
      const request = (prompt: string) => ({ promptIds: engine.codec.encode(prompt, true), maxTokens: 16, sampling: GREEDY, ignoreEos: true });
      const solo: string[] = [];
      for (const prompt of prompts) solo.push((await engine.submit(request(prompt))).tokenIds.join());
      const batched = (await Promise.all(prompts.map((prompt) => engine.submit(request(prompt))))).map((r) => r.tokenIds.join());
      const equal = batched.every((tokens, i) => tokens === solo[i]);
      if (!equal) failures++;
      row(`batched == solo (${layout === 'optimum' ? 'plain attention' : 'GroupQueryAttention'})`, provider, equal ? 'equal' : 'DIFFERENT', `${prompts.length} prompts × 16 greedy tokens`);
    } finally {
      await engine.dispose();
    }
  }
}

async function embeddingRows(work: string, provider: string, dry: boolean): Promise<void> {
  const dir = writeBertModelFolder(join(work, 'bert'), dry ? { hidden: 32, layers: 2 } : { hidden: 384, layers: 6, maxPositions: 512, maxSeqLength: 256, files: 'both' });
  const words = 'the server returns an error when the signing key is rotated during a backup of the database table index'.split(' ');
  const texts = Array.from({ length: dry ? 128 : 1024 }, (_, i) => Array.from({ length: 48 }, (_, j) => words[(i * 3 + j * 5) % words.length]).join(' '));
  for (const batch of [32, 128]) {
    const embedder = new OnnxEmbedder(readEmbeddingModelFolder(dir), { device: provider as DeviceChoice, batchSize: batch, workers: 1 });
    try {
      await embedder.embed(texts.slice(0, 4));
      const started = performance.now();
      await embedder.embed(texts);
      const perSecond = texts.length / ((performance.now() - started) / 1000);
      row(`embedding, batch ${batch}`, provider, `${perSecond.toFixed(0)} texts/s`, `${dry ? 'BERT-shaped 32×2' : 'BERT-shaped 384×6 (fp16 export on GPUs)'}, ${texts.length} texts of 48 words`);
    } finally {
      await embedder.dispose();
    }
  }
}

function generationBench(provider: string, dry: boolean): void {
  const args = ['--import', 'tsx', join(__dirname, '..', 'bench', 'generation.ts'), '--quick', '--device', provider, ...(dry ? ['--only', 'sampling'] : [])];
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) {
    failures++;
    row('bench:generation --quick', provider, 'failed', (result.stderr || result.stdout).split('\n').slice(-3).join(' ').slice(0, 300));
    return;
  }
  const lines = result.stdout.split('\n');
  const summary = lines.find((line) => line.startsWith('8 streams vs 1'));
  if (summary) row('bench:generation --quick', provider, summary.replace(/^8 streams vs 1: /, '').split(',')[0]!, summary);
  for (const line of lines.filter((l) => /^(greedy|temperature|top-p|top-k)/.test(l))) {
    const cells = line.split('|').map((cell) => cell.trim());
    row(`token choice at 151,936 ids: ${cells[0]}`, 'host', `${cells[2]} ms per row`, 'target ≤ 1 ms');
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const work = mkdtempSync(join(tmpdir(), 'docent-gpu-check-'));
  try {
    environmentRows();
    const gpus = gpuProvidersFor();
    const probeDir = join(work, 'probe');
    await writeDecoderFolder(probeDir, SMALL_DECODER);
    const reasons = await providerRows(join(probeDir, 'decoder.onnx'), ['cpu', ...gpus]);
    const loaded = gpus.filter((provider) => reasons.get(provider) === undefined);
    const dry = dryRunAsked || loaded.length === 0;
    const why = dryRunAsked ? '--dry-run' : 'no GPU provider loads on this machine';
    if (dry) console.error(`[gpu-check] dry run (${why}): CPU rows on small models; GPU rows skipped`);

    const decoderDir = join(work, 'decoder');
    if (!dry) console.error('[gpu-check] building the Qwen2.5-width decoder (4 layers, 151,936 tokens)…');
    await writeDecoderFolder(decoderDir, dry ? SMALL_DECODER : GPU_DECODER);
    const contexts = dry ? [64, 256] : [1024, 4096];
    for (const provider of ['cpu', ...gpus]) {
      const reason = reasons.get(provider);
      const skip = provider !== 'cpu' && (reason !== undefined || dry);
      if (skip) {
        row('decode, batched == solo, embedding', provider, 'skipped', reason ?? why);
        continue;
      }
      await decodeRows(decoderDir, provider, contexts, dry ? SMALL_DECODER.vocab : GPU_DECODER.vocab);
      await batchedEqualsSolo(work, provider);
      await embeddingRows(work, provider, dry);
    }
    generationBench(dry ? 'cpu' : (loaded.find((p) => p === 'webgpu') ?? loaded[0]!), dry);
    if (dry) row('bench:generation --quick (batching)', 'gpu', 'skipped', `${why}; the dry run times token choice only`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const widths = (['check', 'device', 'result', 'detail'] as const).map((key) => Math.min(key === 'detail' ? 120 : 60, Math.max(key.length, ...rows.map((r) => r[key].length))));
  const line = (cells: string[]) => cells.map((cell, i) => (cell.length > widths[i]! ? `${cell.slice(0, widths[i]! - 1)}…` : cell.padEnd(widths[i]!))).join(' | ');
  console.log(line(['check', 'device', 'result', 'detail']));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(line([r.check, r.device, r.result, r.detail]));
  const seconds = (performance.now() - started) / 1000;
  console.log(`\n${rows.length} rows in ${seconds.toFixed(0)} s; ${failures} failed check(s).`);
  const results = join(__dirname, '..', 'bench', 'results');
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'gpu-check.json'), `${JSON.stringify({ date: new Date().toISOString(), dryRun: dryRunAsked, seconds, rows }, null, 2)}\n`);
  process.exitCode = failures > 0 ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
