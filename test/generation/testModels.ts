/** Model folders the server tests build once per process in a temporary directory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDecoderFolder, type DecoderSpec } from '../support/decoderModel.js';

const root = mkdtempSync(join(tmpdir(), 'docent-server-test-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

/** Small enough that a decode step takes about a millisecond; big enough to have real structure. */
export const SMALL_DECODER: DecoderSpec = { layers: 2, hidden: 64, heads: 4, vocab: 512, seed: 11, maxPositions: 256 };

const built = new Map<string, Promise<string>>();

/** Writes the folder for `spec` (once per name) and returns its path. */
export function modelDir(name: string, spec: DecoderSpec, options: { chatTemplate?: boolean } = {}): Promise<string> {
  let dir = built.get(name);
  if (!dir) {
    const path = join(root, name);
    dir = writeDecoderFolder(path, spec, options).then(() => path);
    built.set(name, dir);
  }
  return dir;
}
