/**
 * Turns a file's text into its passages (drafts, without ids) and their keyword terms: parsing,
 * chunking and tokenizing are most of an index run's CPU, so a run with many files does them in
 * a worker thread while the indexer reads, hashes and writes segments on its own.
 */
import { Worker } from 'node:worker_threads';
import { chunkDocument, type ChunkDraft, type ChunkingOptions } from './chunker.js';
import { keywordFieldsOf } from './chunkText.js';
import { errorMessage } from './errorMessage.js';
import { parseDocument } from './parse/parseDocument.js';
import { fieldTerms, type FieldTerms } from './search/keywordIndex.js';
import { workerEntry } from './workerScript.js';

/** A file's passages and each one's keyword terms, or why it could not be parsed. */
export type ParsedFile = { drafts: ChunkDraft[]; terms: FieldTerms[] } | { error: string };

export function parseFile(relativePath: string, text: string, chunking: ChunkingOptions): ParsedFile {
  try {
    const drafts = chunkDocument(parseDocument(relativePath, text), chunking);
    return { drafts, terms: drafts.map((draft) => fieldTerms(keywordFieldsOf({ id: 0, path: relativePath, ...draft }))) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

export interface FileParser {
  /** Resolves in any order; a worker that fails rejects every file it holds. */
  parse(relativePath: string, text: string): Promise<ParsedFile>;
  close(): Promise<void>;
}

/** Parses on the calling thread (few files: a worker's start-up would cost more). */
export function inlineParser(chunking: ChunkingOptions): FileParser {
  return { parse: async (relativePath, text) => parseFile(relativePath, text, chunking), close: async () => undefined };
}

export interface ParseRequest {
  job: number;
  path: string;
  text: string;
}

export interface ParseResponse {
  job: number;
  parsed: ParsedFile;
}

const WORKER_YOUNG_MB = 8;

/** Parses in one worker thread (dist/parseWorker.js), in the order files are sent. */
export function workerParser(chunking: ChunkingOptions): FileParser {
  const { script, execArgv } = workerEntry(__dirname, 'parseWorker');
  // A small young generation: the worker's garbage is short-lived, and its heap adds to the run's peak memory.
  const worker = new Worker(script, { workerData: chunking, execArgv, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB } });
  const waiting = new Map<number, { resolve: (parsed: ParsedFile) => void; reject: (error: Error) => void }>();
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const { reject } of waiting.values()) reject(failure);
    waiting.clear();
  };
  worker.on('message', ({ job, parsed }: ParseResponse) => {
    waiting.get(job)?.resolve(parsed);
    waiting.delete(job);
  });
  worker.on('error', (error) => failAll(new Error(`the parse worker failed: ${errorMessage(error)}`)));
  worker.on('exit', (code) => failAll(new Error(`the parse worker exited with code ${code}`)));
  let jobs = 0;
  return {
    parse: (relativePath, text) =>
      new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        const job = jobs++;
        waiting.set(job, { resolve, reject });
        worker.postMessage({ job, path: relativePath, text } satisfies ParseRequest);
      }),
    close: async () => {
      failure ??= new Error('the parse worker was closed');
      await worker.terminate();
    },
  };
}
