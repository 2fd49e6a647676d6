/** Shared set-up for the pipeline tests: the stub backend, a pipeline over the memory retriever, event capture. */
import { after, before, beforeEach } from 'node:test';
import { AnswerPipeline } from '../../../src/core/pipeline/answerPipeline.js';
import type { AnswerEvent, AnswerPipelineOptions } from '../../../src/core/pipeline/types.js';
import { MemoryRetriever, sampleChunks } from '../../support/memoryRetriever.js';
import { FaultInjectingOpenAIServer } from '../../support/openaiStubServer.js';

export interface Capture {
  events: AnswerEvent[];
  onEvent: (event: AnswerEvent) => void;
  /** Concatenated token texts, which must equal the final answer. */
  streamedText: () => string;
}

export function capture(): Capture {
  const events: AnswerEvent[] = [];
  return {
    events,
    onEvent: (event) => events.push(event),
    streamedText: () => events.map((event) => (event.type === 'token' ? event.text : '')).join(''),
  };
}

export interface LogCapture {
  lines: string[];
  logger: { info: (message: string) => void; warn: (message: string) => void };
}

export function logCapture(): LogCapture {
  const lines: string[] = [];
  return { lines, logger: { info: (message) => lines.push(message), warn: (message) => lines.push(message) } };
}

/** Fast retries and short timeouts so fault tests finish quickly; each test overrides what it probes. */
export function makePipeline(
  overrides: Partial<AnswerPipelineOptions> & { baseURL?: string } = {},
): { pipeline: AnswerPipeline; retriever: MemoryRetriever } {
  const retriever = (overrides.retriever as MemoryRetriever | undefined) ?? new MemoryRetriever(sampleChunks());
  const { baseURL, ...options } = overrides;
  const pipeline = new AnswerPipeline({
    retriever,
    backend: baseURL ? { baseURL, model: 'stub-model', apiKey: 'test-key' } : undefined,
    ...options,
    limits: { maxRetries: 2, retryBaseMs: 20, ...options.limits },
    timeouts: { retrievalMs: 2_000, firstTokenMs: 3_000, totalMs: 10_000, ...options.timeouts },
  });
  return { pipeline, retriever };
}

/** Rejects if `promise` does not settle in time: the suite's only use of time, proving "did not hang". */
export function settlesWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer));
}

/** Polls until `condition` holds; wrap in `settlesWithin` to bound it. */
export async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * Starts a fault-injecting backend for the enclosing suite (handed to `onStart`), gives every test
 * a clean one (no fault, no latency) and closes it after the suite.
 */
export function useStubServer(onStart: (server: FaultInjectingOpenAIServer) => void): void {
  let server: FaultInjectingOpenAIServer;
  before(async () => {
    server = await FaultInjectingOpenAIServer.start();
    onStart(server);
  });
  beforeEach(() => {
    server.defaultFault = { kind: 'ok' };
    server.latencyMs = 0;
  });
  after(async () => {
    await server.close();
  });
}
