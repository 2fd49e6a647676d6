/**
 * Turns a file's text into its passages (drafts, without ids) and their keyword documents:
 * parsing, chunking and tokenizing are most of an index run's CPU, so a run with many files does
 * them in worker threads while the indexer reads, hashes and writes segments on its own.
 */
import { Worker } from 'node:worker_threads';
import { chunkDocument, type ChunkDraft, type ChunkingOptions } from './chunker.js';
import { keywordFieldsOf } from './chunkText.js';
import { parseDocument } from './parse/parseDocument.js';
import { TermDictionary, type FileKeywords, type KeywordDocuments, type KeywordIndexOptions } from './search/keywordIndex.js';
import { workerEntry } from './workerScript.js';

/** A file's passages and their keyword documents, or why it could not be parsed. */
export type ParsedFile = { drafts: ChunkDraft[]; keyword: FileKeywords } | { error: string };

export function parseFile(relativePath: string, text: string, chunking: ChunkingOptions, dictionary: TermDictionary): ParsedFile {
  try {
    const drafts = chunkDocument(parseDocument(relativePath, text), chunking);
    return { drafts, keyword: dictionary.fileDocuments(drafts.map((draft) => keywordFieldsOf({ id: 0, path: relativePath, ...draft }))) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

export interface FileParser {
  /** Resolves in any order. */
  parse(relativePath: string, text: string): Promise<ParsedFile>;
  close(): Promise<void>;
}

export interface ParserOptions {
  chunking: ChunkingOptions;
  /** The store's: BM25F field weights are folded into the documents. */
  keyword: KeywordIndexOptions;
}

/** Parses on the calling thread (few files: a worker's start-up would cost more). */
export function inlineParser(options: ParserOptions): FileParser {
  const dictionary = new TermDictionary(options.keyword);
  return { parse: async (relativePath, text) => parseFile(relativePath, text, options.chunking, dictionary), close: async () => undefined };
}

export interface ParseRequest {
  job: number;
  path: string;
  text: string;
}

/** Keyword documents as they cross threads: without the dictionary, which the receiver keeps a copy of. */
type SentDocuments = Omit<KeywordDocuments, 'dictionary'>;

export interface ParseResponse {
  job: number;
  parsed: { drafts: ChunkDraft[]; keyword: { passages: SentDocuments; page: SentDocuments } } | { error: string };
  /** Terms the worker's dictionary numbered since its previous response, in number order. */
  newTerms: string[];
}

/** The worker's side: parses `request` and says which terms its dictionary met since it last answered. */
export function parseResponse(request: ParseRequest, options: ParserOptions, dictionary: TermDictionary, sentTerms: number): { response: ParseResponse; transfer: ArrayBuffer[] } {
  const parsed = parseFile(request.path, request.text, options.chunking, dictionary);
  const newTerms = dictionary.terms.slice(sentTerms);
  if ('error' in parsed) return { response: { job: request.job, parsed, newTerms }, transfer: [] };
  const strip = ({ dictionary: _dictionary, ...documents }: KeywordDocuments): SentDocuments => documents;
  const keyword = { passages: strip(parsed.keyword.passages), page: strip(parsed.keyword.page) };
  const transfer = [keyword.passages, keyword.page].flatMap((documents) => [documents.ends, documents.terms, documents.weights, documents.lengths].map((array) => array.buffer as ArrayBuffer));
  return { response: { job: request.job, parsed: { drafts: parsed.drafts, keyword }, newTerms }, transfer };
}

/**
 * The worker's heap: its garbage is short-lived and its live set small (its term dictionary,
 * one file), and what V8 would let it grow to adds to the run's peak memory.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 160 };

/**
 * Parses in `threads` worker threads (dist/parseWorker.js), each file sent to the one with the
 * least text waiting. Should a worker fail (out of its heap on some huge file), what it held and
 * all later files it would get are parsed on the calling thread: the run goes on.
 */
export function workerParser(options: ParserOptions, threads = 1): FileParser {
  const workers = Array.from({ length: threads }, () => parseThread(options));
  let jobs = 0;
  return {
    parse: (relativePath, text) => {
      const request = { job: jobs++, path: relativePath, text };
      const idle = workers.reduce((best, worker) => (worker.waitingChars < best.waitingChars ? worker : best));
      return idle.parse(request);
    },
    close: async () => {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}

/** One parse worker, and the calling thread once it has failed. */
function parseThread(options: ParserOptions) {
  const { script, execArgv } = workerEntry(__dirname, 'parseWorker');
  const worker = new Worker(script, { workerData: options, execArgv, resourceLimits: WORKER_LIMITS });
  const waiting = new Map<number, { request: ParseRequest; resolve: (parsed: ParsedFile) => void }>();
  /** The worker's dictionary as far as it has told us. */
  const terms: string[] = [];
  let inline: TermDictionary | undefined;
  const parseHere = (request: ParseRequest) => parseFile(request.path, request.text, options.chunking, (inline ??= new TermDictionary(options.keyword)));
  let failed = false;
  const thread = {
    /** Text sent and not answered yet. */
    waitingChars: 0,
    parse: (request: ParseRequest) =>
      new Promise<ParsedFile>((resolve) => {
        if (failed) return resolve(parseHere(request));
        waiting.set(request.job, { request, resolve });
        thread.waitingChars += request.text.length;
        worker.postMessage(request satisfies ParseRequest);
      }),
    close: async () => {
      await worker.terminate();
    },
  };
  const failOver = () => {
    failed = true;
    for (const { request, resolve } of waiting.values()) resolve(parseHere(request));
    waiting.clear();
    thread.waitingChars = 0;
  };
  worker.on('message', ({ job, parsed, newTerms }: ParseResponse) => {
    for (const term of newTerms) terms.push(term);
    const waiter = waiting.get(job);
    waiting.delete(job);
    if (!waiter) return;
    thread.waitingChars -= waiter.request.text.length;
    if ('error' in parsed) return waiter.resolve(parsed);
    const { passages, page } = parsed.keyword;
    waiter.resolve({ drafts: parsed.drafts, keyword: { passages: { ...passages, dictionary: terms }, page: { ...page, dictionary: terms } } });
  });
  worker.on('error', failOver);
  worker.on('exit', failOver);
  return thread;
}
