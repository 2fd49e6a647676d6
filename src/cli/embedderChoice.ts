/** Which Embedder the CLI builds for a name given on the command line or recorded in a store. */
import { HashingEmbedder } from '../core/embedding/hashingEmbedder.js';
import type { Embedder } from '../core/types.js';
import { UsageError } from './usageError.js';

export const EMBEDDER_CHOICES = ['hashing', 'none'] as const;

export function createEmbedder(name: string | undefined): Embedder | undefined {
  if (name === undefined || name === 'hashing' || name.startsWith('hashing-stand-in-')) {
    const dimensions = name?.startsWith('hashing-stand-in-') ? Number(name.slice('hashing-stand-in-'.length)) : 256;
    return new HashingEmbedder(dimensions);
  }
  if (name === 'none') return undefined;
  throw new UsageError(`unknown embedder "${name}" (choose ${EMBEDDER_CHOICES.join(', ')})`);
}
