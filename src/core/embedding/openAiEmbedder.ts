/**
 * An OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, vLLM, TEI, llama.cpp, our own server)
 * as an Embedder, over plain fetch. Vectors are re-normalised: not every server returns unit length.
 */
import type { Embedder } from '../types.js';

export interface OpenAiEmbedderOptions {
  /** Base URL including the version path, e.g. http://127.0.0.1:8080/v1 */
  baseUrl: string;
  model: string;
  /** Vector length; learned from the first response when omitted (see OpenAiEmbeddingsEmbedder.connect). */
  dimensions: number;
  apiKey?: string;
  /** Texts per request; default 64. */
  batchSize?: number;
}

interface EmbeddingsResponse {
  data?: Array<{ index: number; embedding: number[] }>;
}

export class OpenAiEmbeddingsEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  private readonly endpoint: string;
  private readonly batchSize: number;

  constructor(private readonly options: OpenAiEmbedderOptions) {
    this.id = `openai-compatible:${options.model}`;
    this.dimensions = options.dimensions;
    this.endpoint = `${options.baseUrl.replace(/\/+$/, '')}/embeddings`;
    this.batchSize = Math.max(1, options.batchSize ?? 64);
  }

  /** Creates the embedder, asking the server once for the vector length when it is not given. */
  static async connect(options: Omit<OpenAiEmbedderOptions, 'dimensions'> & { dimensions?: number }, signal?: AbortSignal): Promise<OpenAiEmbeddingsEmbedder> {
    if (options.dimensions) return new OpenAiEmbeddingsEmbedder({ ...options, dimensions: options.dimensions });
    const probe = new OpenAiEmbeddingsEmbedder({ ...options, dimensions: 0 });
    const [vector] = await probe.request(['dimension probe'], signal);
    return new OpenAiEmbeddingsEmbedder({ ...options, dimensions: vector!.length });
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    signal?.throwIfAborted();
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = await this.request(texts.slice(start, start + this.batchSize), signal);
      for (const vector of batch) {
        if (this.dimensions && vector.length !== this.dimensions) {
          throw new Error(`${this.endpoint} returned ${vector.length}-d vectors for model "${this.options.model}", expected ${this.dimensions}`);
        }
        vectors.push(vector);
      }
    }
    return vectors;
  }

  async dispose(): Promise<void> {}

  private async request(input: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    let response: Response;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}) },
        body: JSON.stringify({ model: this.options.model, input, encoding_format: 'float' }),
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new Error(`cannot reach the embeddings endpoint ${this.endpoint}: ${(error as Error).cause ?? (error as Error).message}`, { cause: error });
    }
    const body = await response.text();
    if (!response.ok) throw new Error(`embeddings endpoint ${this.endpoint} answered ${response.status} ${response.statusText}: ${serverMessage(body)}`);
    let parsed: EmbeddingsResponse;
    try {
      parsed = JSON.parse(body) as EmbeddingsResponse;
    } catch {
      throw new Error(`embeddings endpoint ${this.endpoint} returned invalid JSON: ${body.slice(0, 200)}`);
    }
    const data = parsed.data;
    if (!Array.isArray(data) || data.length !== input.length) {
      throw new Error(`embeddings endpoint ${this.endpoint} returned ${Array.isArray(data) ? data.length : 'no'} embeddings for ${input.length} inputs`);
    }
    return [...data].sort((a, b) => a.index - b.index).map(({ embedding }) => normalise(Float32Array.from(embedding)));
  }
}

/** The `error.message` of an OpenAI-style error body, or the body's start. */
function serverMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } | string; message?: string };
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message);
    if (message) return message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.slice(0, 300) || '(empty body)';
}

function normalise(vector: Float32Array): Float32Array {
  const norm = Math.hypot(...vector);
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  for (let d = 0; d < vector.length; d++) vector[d]! /= norm;
  return vector;
}
