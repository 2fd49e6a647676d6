/** Timing one onnxruntime session at several inputs, for the decoder-alone and matmul benches. */
import type * as ort from 'onnxruntime-node';

/**
 * Median milliseconds of `session.run` per feed, after one warm-up run each (which also lets
 * onnxruntime prepack weights). Feeds take turns every round, so noise from other processes hits
 * them alike and their ratios hold on a busy machine.
 */
export async function medianRunMs(session: ort.InferenceSession, feeds: ort.InferenceSession.FeedsType[], rounds: number): Promise<number[]> {
  for (const feed of feeds) await session.run(feed);
  const times = feeds.map((): number[] => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, feed] of feeds.entries()) {
      const started = performance.now();
      await session.run(feed);
      times[i]!.push(performance.now() - started);
    }
  }
  return times.map((runs) => runs.sort((a, b) => a - b)[Math.floor(rounds / 2)]!);
}
