import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { describeDevice, gpuProvidersFor } from '../../src/core/onnx/session.js';
import { GenerationEngine, GenerationRejectedError, type GenerationRequest } from '../../src/generation/engine.js';
import { LAST_LOGITS } from '../../src/generation/decoderGraph.js';
import type { RunReport } from '../../src/generation/decoderRuntime.js';
import { GREEDY } from '../../src/generation/sampling.js';
import { modelDir, SMALL_DECODER } from './testModels.js';

const PROMPTS = [
  'hello',
  'How do I rotate the API signing keys for the staging cluster?',
  'the quick brown fox jumps over the lazy dog, twice over, and then sits down',
  'ok',
  'Where is the runbook for on-call handover?',
];

function greedy(engine: GenerationEngine, prompt: string, maxTokens = 24, extra: Partial<GenerationRequest> = {}): GenerationRequest {
  return { promptIds: engine.codec.encode(prompt, true), maxTokens, sampling: GREEDY, ignoreEos: true, ...extra };
}

async function soloThenBatched(engine: GenerationEngine): Promise<{ solo: number[][]; batched: number[][] }> {
  const solo: number[][] = [];
  for (const prompt of PROMPTS) solo.push((await engine.submit(greedy(engine, prompt))).tokenIds);
  const batched = (await Promise.all(PROMPTS.map((prompt) => engine.submit(greedy(engine, prompt))))).map((r) => r.tokenIds);
  return { solo, batched };
}

for (const variant of [
  { name: 'optimum layout, fp32 cache', spec: { ...SMALL_DECODER } },
  { name: 'optimum layout, fp16 cache and logits', spec: { ...SMALL_DECODER, dtype: 'float16' as const } },
  { name: 'genai_config layout, combined past_N, int32 ids', spec: { ...SMALL_DECODER, layout: 'genai' as const } },
  // onnxruntime-genai's GPU export style: com.microsoft.GroupQueryAttention with 2 KV heads for 4 query heads.
  { name: 'GroupQueryAttention, right-padded cache with seqlens_k', spec: { ...SMALL_DECODER, layout: 'genai-gqa' as const, kvHeads: 2 } },
  { name: 'GroupQueryAttention, fp16 cache and logits', spec: { ...SMALL_DECODER, layout: 'genai-gqa' as const, kvHeads: 2, dtype: 'float16' as const } },
]) {
  describe(`engine on a generated decoder (${variant.name})`, () => {
    let engine: GenerationEngine;
    before(async () => {
      // A budget of four chunks: prompts arriving together are prefilled in shared runs.
      engine = await GenerationEngine.load(await modelDir(variant.name.replace(/\W+/g, '-'), variant.spec), { device: 'cpu', prefillChunk: 8, prefillBudget: 32 });
    });
    after(() => engine.dispose());

    test('greedy output alone equals the same request inside a batch of mixed-length prompts', async () => {
      const { solo, batched } = await soloThenBatched(engine);
      assert.equal(engine.device.provider, 'cpu');
      const groupQuery = variant.spec.layout === 'genai-gqa';
      assert.equal(engine.runtime.attention, groupQuery ? 'group-query' : 'plain');
      assert.equal(engine.runtime.layout, groupQuery ? 'right' : 'left');
      assert.equal(engine.runtime.batchedPrefillWithPast, !groupQuery);
      for (const tokens of solo) assert.equal(tokens.length, 24);
      assert.deepEqual(batched, solo);
      // Not a degenerate model: different prompts lead to different continuations.
      assert.ok(new Set(solo.map((t) => t.join(','))).size > 1);
    });
  });
}

describe('engine scheduling and sampling', () => {
  let engine: GenerationEngine;
  before(async () => {
    engine = await GenerationEngine.load(await modelDir('optimum-fp32', SMALL_DECODER), { device: 'auto', prefillChunk: 8, maxBatch: 4, maxQueue: 2 });
  });
  after(() => engine.dispose());

  test('auto runs on the first provider that loads and says why each one before it was passed over', () => {
    // Device-agnostic: on a GPU machine auto may pick a GPU; here it ends on the CPU.
    const gpus = gpuProvidersFor();
    const { provider, fallbackReasons, placement } = engine.device;
    assert.equal(fallbackReasons.length, provider === 'cpu' ? gpus.length : gpus.indexOf(provider));
    if (provider !== 'cpu') {
      assert.ok(placement, 'a GPU session reports where onnxruntime placed its nodes');
      return;
    }
    // The reason names what is missing, e.g. the CUDA provider libraries or the Vulkan loader.
    if (gpus[0] === 'cuda') assert.match(fallbackReasons[0]!, /^CUDA: .*(libonnxruntime_providers_\w+\.so|libcu\w+\.so|CUDA)/);
    assert.match(describeDevice(engine.device), /^CPU \(fell back: /);
  });

  test('chunked prefill gives the same greedy tokens as a single-run prefill', async () => {
    const whole = await GenerationEngine.load(await modelDir('optimum-fp32', SMALL_DECODER), { device: 'cpu', prefillChunk: 1000 });
    try {
      const prompt = PROMPTS[2]!;
      assert.ok(engine.codec.encode(prompt, true).length > 3 * engine.prefillChunk);
      const chunked = await engine.submit(greedy(engine, prompt));
      const single = await whole.submit(greedy(whole, prompt));
      assert.deepEqual(chunked.tokenIds, single.tokenIds);
    } finally {
      await whole.dispose();
    }
  });

  test('prompts arriving together share prefill runs (mixed chunk and past lengths) and keep their solo greedy tokens', async () => {
    // Chunks of 3 within a budget of 12 padded tokens: long prompts advance a chunk at a time
    // beside fresh short ones, so rows differ in past length and in chunk length.
    const shared = await GenerationEngine.load(await modelDir('optimum-fp32', SMALL_DECODER), { device: 'cpu', prefillChunk: 3, prefillBudget: 12 });
    const whole = await GenerationEngine.load(await modelDir('optimum-fp32', SMALL_DECODER), { device: 'cpu', prefillChunk: 1000 });
    try {
      const solo: number[][] = [];
      for (const prompt of PROMPTS) solo.push((await whole.submit(greedy(whole, prompt))).tokenIds);
      const chunks = PROMPTS.reduce((sum, prompt) => sum + Math.ceil(shared.codec.encode(prompt, true).length / 3), 0);
      const batched = (await Promise.all(PROMPTS.map((prompt) => shared.submit(greedy(shared, prompt))))).map((r) => r.tokenIds);
      assert.deepEqual(batched, solo);
      assert.ok(shared.metrics.prefillRuns < chunks, `${chunks} chunks took ${shared.metrics.prefillRuns} prefill runs`);
      assert.equal(shared.metrics.promptTokens, PROMPTS.reduce((sum, prompt) => sum + shared.codec.encode(prompt, true).length, 0));
    } finally {
      await shared.dispose();
      await whole.dispose();
    }
  });

  test('prefill fetches only the last token logits of each row ([rows, vocab]), not [rows, chunk, vocab]', async () => {
    const reports: RunReport[] = [];
    const observed = await GenerationEngine.load(await modelDir('optimum-fp32', SMALL_DECODER), { device: 'cpu', prefillChunk: 6, prefillBudget: 24, onRun: (report) => reports.push(report) });
    try {
      await Promise.all(PROMPTS.map((prompt) => observed.submit(greedy(observed, prompt, 3))));
    } finally {
      await observed.dispose();
    }
    const prefills = reports.filter((r) => r.kind === 'prefill');
    assert.ok(prefills.some((r) => r.rows > 1 && r.width > 1), 'some prefill runs carried several multi-token chunks');
    for (const report of reports) {
      assert.ok(!('logits' in report.fetched), `the full logits output is never fetched (${Object.keys(report.fetched).join(', ')})`);
      assert.deepEqual(report.fetched[LAST_LOGITS], [report.rows, SMALL_DECODER.vocab]);
    }
  });

  test('a seed reproduces a sampled completion, alone or batched with other requests', async () => {
    const sampled = (seed: number) => greedy(engine, PROMPTS[1]!, 20, { sampling: { temperature: 0.9, topP: 0.95, topK: 50, seed } });
    const first = await engine.submit(sampled(42));
    const [again, , other] = await Promise.all([engine.submit(sampled(42)), engine.submit(greedy(engine, PROMPTS[0]!)), engine.submit(sampled(7))]);
    assert.deepEqual(again!.tokenIds, first.tokenIds);
    assert.notDeepEqual(other!.tokenIds, first.tokenIds);
    const greedyTokens = (await engine.submit(greedy(engine, PROMPTS[1]!, 20))).tokenIds;
    assert.notDeepEqual(first.tokenIds, greedyTokens, 'temperature 0.9 should leave the greedy path');
  });

  test('max_tokens and stop strings end a generation with the right finish reason', async () => {
    const full = await engine.submit(greedy(engine, PROMPTS[1]!, 30));
    assert.equal(full.finishReason, 'length');
    assert.equal(full.completionTokens, 30);
    // Pick a stop string from the middle of the greedy text; the output must end right before it.
    let at = 1;
    while (at < full.text.length && /[\uFFFD\s]|^.?$/su.test(full.text.slice(at, at + 2))) at++;
    const stop = full.text.slice(at, at + 2);
    assert.equal(stop.length, 2);
    let streamed = '';
    const stopped = await engine.submit(greedy(engine, PROMPTS[1]!, 30, { stop: [stop], onText: (delta) => (streamed += delta) }));
    assert.equal(stopped.finishReason, 'stop');
    assert.equal(stopped.text, full.text.slice(0, full.text.indexOf(stop)));
    assert.equal(streamed, stopped.text);
    assert.ok(!streamed.includes(stop));
  });

  test('a late request joins the running batch: its first token comes within two decode steps', async () => {
    let lateSubmittedAtStep = -1;
    let lateFirstTokenAtStep = -1;
    let late: Promise<unknown> | undefined;
    const startStep = engine.metrics.decodeSteps;
    const long = engine.submit(
      greedy(engine, PROMPTS[2]!, 80, {
        onToken: () => {
          if (late || engine.metrics.decodeSteps - startStep < 10) return;
          lateSubmittedAtStep = engine.metrics.decodeSteps;
          late = engine.submit(
            greedy(engine, PROMPTS[0]!, 5, {
              onToken: () => {
                if (lateFirstTokenAtStep < 0) lateFirstTokenAtStep = engine.metrics.decodeSteps;
              },
            }),
          );
        },
      }),
    );
    await long;
    await late;
    assert.ok(lateSubmittedAtStep - startStep >= 10);
    assert.ok(lateFirstTokenAtStep - lateSubmittedAtStep <= 2, `first token after ${lateFirstTokenAtStep - lateSubmittedAtStep} decode steps`);
  });

  test('a long prompt is prefilled in chunks between the decode steps of a running stream', async () => {
    const longPrompt = PROMPTS.slice(1, 3).join(' ');
    const promptTokens = engine.codec.encode(longPrompt, true).length;
    assert.ok(promptTokens > 4 * engine.prefillChunk);
    const prefilledBetweenTokens: number[] = [];
    let lastPromptTotal = 0;
    let joined: Promise<unknown> | undefined;
    const running = engine.submit(
      greedy(engine, PROMPTS[0]!, 40, {
        onToken: () => {
          if (joined) prefilledBetweenTokens.push(engine.metrics.promptTokens - lastPromptTotal);
          lastPromptTotal = engine.metrics.promptTokens;
          if (!joined) joined = engine.submit(greedy(engine, longPrompt, 2));
        },
      }),
    );
    await running;
    await joined;
    assert.ok(prefilledBetweenTokens.some((n) => n > 0), 'the long prompt was prefilled while the stream ran');
    assert.ok(Math.max(...prefilledBetweenTokens) <= engine.prefillBudget, `at most one step budget between tokens, saw ${Math.max(...prefilledBetweenTokens)}`);
  });

  test('cancelling leaves the batch at once and frees the slot; batch size never exceeds max', async () => {
    const controller = new AbortController();
    let maxSeenBatch = 0;
    let tokens = 0;
    const cancelled = engine.submit(
      greedy(engine, PROMPTS[1]!, 200, {
        signal: controller.signal,
        onToken: () => {
          maxSeenBatch = Math.max(maxSeenBatch, engine.gauges().batchSize);
          if (++tokens === 5) controller.abort();
        },
      }),
    );
    const others = PROMPTS.map((prompt) => engine.submit(greedy(engine, prompt, 10, { onToken: () => (maxSeenBatch = Math.max(maxSeenBatch, engine.gauges().batchSize)) })));
    const result = await cancelled;
    assert.equal(result.finishReason, 'cancelled');
    assert.equal(tokens, 5, 'no token after the cancel');
    await Promise.all(others);
    assert.ok(maxSeenBatch <= engine.maxBatch && maxSeenBatch >= 2, `batch sizes seen up to ${maxSeenBatch}`);
    assert.deepEqual(engine.gauges(), { queueDepth: 0, activeSequences: 0, batchSize: 0 });
  });

  test('tokens in flight: a request waits until the running ones leave room; one that can never fit is refused', async () => {
    const limited = await GenerationEngine.load(await modelDir('optimum-fp32', SMALL_DECODER), { device: 'cpu', maxTokensInFlight: 100 });
    try {
      const prompt = limited.codec.encode(PROMPTS[0]!, true);
      const first = limited.submit({ promptIds: prompt, maxTokens: 60, sampling: GREEDY, ignoreEos: true });
      const second = limited.submit({ promptIds: prompt, maxTokens: 60, sampling: GREEDY, ignoreEos: true });
      assert.deepEqual(limited.gauges(), { queueDepth: 1, activeSequences: 1, batchSize: 0 });
      assert.throws(
        () => limited.submit({ promptIds: prompt, maxTokens: 100, sampling: GREEDY }),
        (e: unknown) => e instanceof GenerationRejectedError && e.reason === 'context_length_exceeded',
      );
      const [a, b] = await Promise.all([first, second]);
      assert.deepEqual(b.tokenIds, a.tokenIds);
    } finally {
      await limited.dispose();
    }
  });

  test('rejects prompts longer than the context and requests beyond the queue bound', async () => {
    const tooLong = Array.from({ length: SMALL_DECODER.maxPositions! }, () => 100);
    assert.throws(() => engine.submit({ promptIds: tooLong, maxTokens: 1, sampling: GREEDY }), (e: unknown) => e instanceof GenerationRejectedError && e.reason === 'context_length_exceeded');
    assert.throws(() => engine.submit({ promptIds: [], maxTokens: 1, sampling: GREEDY }), (e: unknown) => e instanceof GenerationRejectedError && e.reason === 'empty_prompt');
    // 4 admitted + 2 queued fill the engine; the next one is refused with a retry hint.
    const controller = new AbortController();
    const running = Array.from({ length: 6 }, () => engine.submit(greedy(engine, PROMPTS[0]!, 500, { signal: controller.signal })));
    assert.throws(
      () => engine.submit(greedy(engine, PROMPTS[0]!)),
      (e: unknown) => e instanceof GenerationRejectedError && e.reason === 'queue_full' && e.retryAfterSeconds === 1,
    );
    controller.abort();
    for (const result of await Promise.all(running)) assert.equal(result.finishReason, 'cancelled');
  });
});
