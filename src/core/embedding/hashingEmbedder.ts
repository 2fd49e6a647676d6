/**
 * STAND-IN embedder (feature hashing), used until a real ONNX model is configured and by tests
 * that need an Embedder without model files. It is lexical, not semantic: it hashes word
 * tokens and character trigrams into a fixed number of signed buckets and normalises.
 */
import type { Embedder } from '../types.js';

export class HashingEmbedder implements Embedder {
  readonly id: string;

  constructor(readonly dimensions = 256) {
    this.id = `hashing-stand-in-${dimensions}`;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    signal?.throwIfAborted();
    return texts.map((text) => this.embedOne(text));
  }

  embedOne(text: string): Float32Array {
    const vector = new Float32Array(this.dimensions);
    for (const word of text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []) {
      this.addFeature(vector, `w:${word}`, 1);
      const padded = `#${word}#`;
      for (let i = 0; i + 3 <= padded.length; i++) this.addFeature(vector, padded.slice(i, i + 3), 0.5);
    }
    let norm = 0;
    for (const value of vector) norm += value * value;
    if (norm === 0) {
      vector[0] = 1; // a defined unit vector for empty text keeps cosine math finite
      return vector;
    }
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < vector.length; i++) vector[i]! *= scale;
    return vector;
  }

  async dispose(): Promise<void> {}

  private addFeature(vector: Float32Array, feature: string, weight: number): void {
    const hash = fnv1a(feature);
    const bucket = hash % this.dimensions;
    vector[bucket]! += hash & 0x80000000 ? -weight : weight;
  }
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
