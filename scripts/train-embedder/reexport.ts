/**
 * Rewrites a static model folder with the current graph (src/build/wordVectorModel.ts) and the
 * same weights, without training: what a change of the export needs. The manifest's source and
 * build key and training.json are kept; the id and checksums follow the new model file.
 *   node --import tsx scripts/train-embedder/reexport.ts models/docent-static-256d
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORD_VECTOR_MANIFEST, type WordVectorManifest } from '../../src/core/embedding/modelSpec.js';
import { readModelFolder, writeModelFolder } from './modelFiles.js';

const dir = process.argv[2];
if (!dir) throw new Error('reexport: give the model folder, e.g. models/docent-static-256d');
const manifest = JSON.parse(readFileSync(join(dir, WORD_VECTOR_MANIFEST), 'utf8')) as WordVectorManifest;
const training = JSON.parse(readFileSync(join(dir, 'training.json'), 'utf8')) as object;
const { model, vocabulary } = readModelFolder(dir);
const id = writeModelFolder(model, vocabulary, dir, { source: manifest.source, buildKey: manifest.buildKey, training });
console.log(`reexport: ${manifest.id} → ${id} in ${dir}`);
