/**
 * Reads a file, hashes its text and turns it into its passages (drafts, without ids) and their
 * keyword documents: reading, parsing, chunking and tokenizing are most of an index run's CPU,
 * so a run with many files does them in worker threads while the indexer writes segments
 * (parseThreads.ts).
 */
import { createHash } from 'node:crypto';
import { chunkDocument, type ChunkDraft, type ChunkingOptions } from './chunker.js';
import { embeddingTextOf, keywordFieldsOf } from './chunkText.js';
import { readTextFile, type DiscoveredFile, type SkipReason } from './discovery.js';
import { encodeDrafts, type EncodedDrafts } from './draftRecords.js';
import { parseDocument } from './parse/parseDocument.js';
import { TermDictionary, type FileKeywords, type KeywordDocuments, type KeywordIndexOptions } from './search/keywordIndex.js';
import { noteFileParsed } from './threadWork.js';

/**
 * A file's passages (encoded for the store), their keyword documents and, when asked for, what
 * the embedder is to see of each; or why the file could not be parsed.
 */
export type ParsedFile = { drafts: EncodedDrafts; keyword: FileKeywords; embeddingTexts?: string[] } | { error: string };

export function parseFile(relativePath: string, text: string, chunking: ChunkingOptions, dictionary: TermDictionary, embeddingTexts = false): ParsedFile {
  noteFileParsed();
  try {
    const drafts = chunkDocument(parseDocument(relativePath, text), chunking);
    const asChunk = (draft: ChunkDraft) => ({ id: 0, path: relativePath, ...draft });
    const parsed = { drafts: encodeDrafts(drafts), keyword: dictionary.fileDocuments(drafts.map((draft) => keywordFieldsOf(asChunk(draft)))) };
    return embeddingTexts ? { ...parsed, embeddingTexts: drafts.map((draft) => embeddingTextOf(asChunk(draft))) } : parsed;
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** A file read: why it is skipped, or the SHA-256 of its text and (when that is not the hash it was known by) its parse. */
export type PreparedFile = { skip: SkipReason; detail: string } | { hash: string; parsed?: ParsedFile };

export function prepareFile(file: DiscoveredFile, knownHash: string | undefined, options: ParserOptions, dictionary: TermDictionary): PreparedFile {
  const read = readTextFile(file, options.maxFileBytes);
  if ('skip' in read) return read;
  const hash = createHash('sha256').update(read.text).digest('hex');
  // Unchanged content is not parsed.
  if (hash === knownHash) return { hash };
  return { hash, parsed: parseFile(file.path, read.text, options.chunking, dictionary, options.embeddingTexts) };
}

export interface FileParser {
  /** prepareFile; resolves in any order. */
  prepare(file: DiscoveredFile, knownHash: string | undefined): Promise<PreparedFile>;
  close(): Promise<void>;
}

export interface ParserOptions {
  chunking: ChunkingOptions;
  /** The store's: BM25F field weights are folded into the documents. */
  keyword: KeywordIndexOptions;
  /** Discovery's size cap, checked again as a file is read. */
  maxFileBytes?: number;
  /** Whether each file's ParsedFile carries its passages' embedding texts (the store has an embedder). */
  embeddingTexts?: boolean;
}

/** Parses on the calling thread (few files: a worker's start-up would cost more). */
export function inlineParser(options: ParserOptions): FileParser {
  const dictionary = new TermDictionary(options.keyword);
  return { prepare: async (file, knownHash) => prepareFile(file, knownHash, options, dictionary), close: async () => undefined };
}

export interface ParseRequest {
  job: number;
  file: DiscoveredFile;
  knownHash: string | undefined;
}

/** Keyword documents as they cross threads: without the dictionary, which the receiver keeps a copy of. */
type SentDocuments = Omit<KeywordDocuments, 'dictionary'>;

type SentParse = { drafts: EncodedDrafts; keyword: { passages: SentDocuments; page: SentDocuments }; embeddingTexts?: string[] } | { error: string };

export interface ParseResponse {
  job: number;
  prepared: { skip: SkipReason; detail: string } | { hash: string; parsed?: SentParse };
  /** Terms the worker's dictionary numbered since its previous response, in number order. */
  newTerms: string[];
}

/** The worker's side: prepares `request`'s file and says which terms its dictionary met since it last answered. */
export function parseResponse(request: ParseRequest, options: ParserOptions, dictionary: TermDictionary, sentTerms: number): { response: ParseResponse; transfer: ArrayBuffer[] } {
  const prepared = prepareFile(request.file, request.knownHash, options, dictionary);
  const newTerms = dictionary.terms.slice(sentTerms);
  if ('skip' in prepared) return { response: { job: request.job, prepared, newTerms }, transfer: [] };
  const { hash, parsed } = prepared;
  if (!parsed || 'error' in parsed) return { response: { job: request.job, prepared: parsed ? { hash, parsed } : { hash }, newTerms }, transfer: [] };
  const { keyword: documents, ...passages } = parsed;
  const strip = ({ dictionary: _dictionary, ...sent }: KeywordDocuments): SentDocuments => sent;
  const keyword = { passages: strip(documents.passages), page: strip(documents.page) };
  const arrays = [passages.drafts.bytes, passages.drafts.ends, ...[keyword.passages, keyword.page].flatMap((sent) => [sent.ends, sent.terms, sent.weights, sent.lengths])];
  const transfer = arrays.map((array) => array.buffer as ArrayBuffer);
  return { response: { job: request.job, prepared: { hash, parsed: { ...passages, keyword } }, newTerms }, transfer };
}
