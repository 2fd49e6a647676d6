/**
 * Turns a file's text into its passages (drafts, without ids) and their keyword terms: parsing,
 * chunking and tokenizing are most of an index run's CPU, so a run with many files does them in
 * a worker thread while the indexer reads, hashes and writes segments on its own.
 */
import { Worker } from 'node:worker_threads';
import { chunkDocument, type ChunkDraft, type ChunkingOptions } from './chunker.js';
import { keywordFieldsOf } from './chunkText.js';
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
  /** Resolves in any order. */
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

/**
 * The worker's heap: its garbage is short-lived and its live set small (the tokenizer's cache,
 * one file), and what V8 would let it grow to adds to the run's peak memory.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 160 };

/**
 * Parses in one worker thread (dist/parseWorker.js), in the order files are sent. Should the
 * worker fail (out of its heap on some huge file), what it held and all later files are parsed
 * on the calling thread: the run goes on.
 */
export function workerParser(chunking: ChunkingOptions): FileParser {
  const { script, execArgv } = workerEntry(__dirname, 'parseWorker');
  const worker = new Worker(script, { workerData: chunking, execArgv, resourceLimits: WORKER_LIMITS });
  const waiting = new Map<number, { request: ParseRequest; resolve: (parsed: ParsedFile) => void }>();
  let failed = false;
  const failOver = () => {
    failed = true;
    for (const { request, resolve } of waiting.values()) resolve(parseFile(request.path, request.text, chunking));
    waiting.clear();
  };
  worker.on('message', ({ job, parsed }: ParseResponse) => {
    waiting.get(job)?.resolve(parsed);
    waiting.delete(job);
  });
  worker.on('error', failOver);
  worker.on('exit', failOver);
  let jobs = 0;
  return {
    parse: (relativePath, text) =>
      new Promise((resolve) => {
        if (failed) return resolve(parseFile(relativePath, text, chunking));
        const request = { job: jobs++, path: relativePath, text };
        waiting.set(request.job, { request, resolve });
        worker.postMessage(request satisfies ParseRequest);
      }),
    close: async () => {
      await worker.terminate();
    },
  };
}
