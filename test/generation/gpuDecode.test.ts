/**
 * The engine on each GPU provider this platform has, when it loads here: batched == solo on the
 * device, and (WebGPU) the KV cache staying there. Each provider that cannot load skips with
 * the reason onnxruntime gave, so the suite passes on a machine without a GPU and checks the
 * real thing on one that has one (scripts/gpu-check.sh runs it there).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeviceUnavailableError, gpuProvidersFor } from '../../src/core/onnx/session.js';
import { LAST_LOGITS } from '../../src/generation/decoderGraph.js';
import type { RunReport } from '../../src/generation/decoderRuntime.js';
import { GenerationEngine } from '../../src/generation/engine.js';
import { GREEDY } from '../../src/generation/sampling.js';
import { modelDir, SMALL_DECODER } from './testModels.js';

const PROMPTS = ['hello', 'How do I rotate the API signing keys for the staging cluster?', 'the quick brown fox jumps over the lazy dog', 'ok'];

for (const provider of gpuProvidersFor().filter((p) => p === 'webgpu' || p === 'cuda')) {
  describe(`generation on ${provider}`, () => {
    for (const layout of ['optimum', 'genai-gqa'] as const) {
      test(`${layout}: batched == solo on the device${provider === 'webgpu' ? ', cache resident, only logits reach the host' : ''}`, async (t) => {
        const reports: RunReport[] = [];
        let engine: GenerationEngine;
        try {
          engine = await GenerationEngine.load(await modelDir(`device-${layout}`, { ...SMALL_DECODER, layout, kvHeads: 2 }), {
            device: provider as 'webgpu' | 'cuda',
            prefillChunk: 8,
            prefillBudget: 32,
            onRun: (report) => reports.push(report),
          });
        } catch (error) {
          if (error instanceof DeviceUnavailableError) return t.skip(error.message);
          throw error;
        }
        try {
          const request = (prompt: string) => ({ promptIds: engine.codec.encode(prompt, true), maxTokens: 16, sampling: GREEDY, ignoreEos: true });
          const solo: number[][] = [];
          for (const prompt of PROMPTS) solo.push((await engine.submit(request(prompt))).tokenIds);
          const batched = (await Promise.all(PROMPTS.map((prompt) => engine.submit(request(prompt))))).map((r) => r.tokenIds);
          assert.deepEqual(batched, solo);
          assert.equal(engine.device.provider, provider);
          assert.equal(engine.runtime.resident, provider === 'webgpu');
          if (provider === 'webgpu') {
            // Resident: each decode step hands over the last-token logits and nothing else.
            for (const report of reports.filter((r) => r.kind === 'decode')) assert.equal(report.outputBytes, report.rows * SMALL_DECODER.vocab * 4, JSON.stringify(report.fetched));
          }
          assert.ok(reports.every((r) => r.fetched[LAST_LOGITS]![0] === r.rows));
        } finally {
          await engine.dispose();
        }
      });
    }
  });
}
