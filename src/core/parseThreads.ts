/**
 * The parse workers of a run with many files (dist/parseWorker.js). A module of its own, so a
 * run that parses on its own thread (`docent index --changed`, a few files) never loads
 * worker_threads, a few milliseconds of such a process.
 */
import { Worker } from 'node:worker_threads';
import { prepareFile, type FileParser, type ParseRequest, type ParseResponse, type ParserOptions, type PreparedFile } from './fileParser.js';
import { TermDictionary } from './search/keywordIndex.js';
import { tierForLongRun } from './tiering.js';
import { workerEntry } from './workerScript.js';

/**
 * The worker's heap: its garbage is short-lived and its live set small (its term dictionary,
 * one file), and what V8 would let it grow to adds to the run's peak memory.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 160 };

/**
 * Prepares files in `threads` worker threads (dist/parseWorker.js), each file sent to the one
 * with the fewest bytes waiting. Should a worker fail (out of its heap on some huge file), what it held and
 * all later files it would get are parsed on the calling thread: the run goes on.
 */
export function workerParser(options: ParserOptions, threads = 1): FileParser {
  // A run with files enough for workers lasts seconds: its hot code should reach TurboFan sooner than a short command's (tiering.ts).
  tierForLongRun();
  const workers = Array.from({ length: threads }, () => parseThread(options));
  let jobs = 0;
  return {
    prepare: (file, knownHash) => {
      const request = { job: jobs++, file, knownHash };
      const idle = workers.reduce((best, worker) => (worker.waitingBytes < best.waitingBytes ? worker : best));
      return idle.prepare(request);
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
  const waiting = new Map<number, { request: ParseRequest; resolve: (prepared: PreparedFile) => void }>();
  /** The worker's dictionary as far as it has told us. */
  const terms: string[] = [];
  let inline: TermDictionary | undefined;
  const prepareHere = (request: ParseRequest) => prepareFile(request.file, request.knownHash, options, (inline ??= new TermDictionary(options.keyword)));
  let failed = false;
  const thread = {
    /** Bytes of the files sent and not answered yet (as discovery found them). */
    waitingBytes: 0,
    prepare: (request: ParseRequest) =>
      new Promise<PreparedFile>((resolve) => {
        if (failed) return resolve(prepareHere(request));
        waiting.set(request.job, { request, resolve });
        thread.waitingBytes += request.file.size;
        worker.postMessage(request satisfies ParseRequest);
      }),
    close: async () => {
      await worker.terminate();
    },
  };
  const failOver = () => {
    failed = true;
    for (const { request, resolve } of waiting.values()) resolve(prepareHere(request));
    waiting.clear();
    thread.waitingBytes = 0;
  };
  worker.on('message', ({ job, prepared, newTerms }: ParseResponse) => {
    for (const term of newTerms) terms.push(term);
    const waiter = waiting.get(job);
    waiting.delete(job);
    if (!waiter) return;
    thread.waitingBytes -= waiter.request.file.size;
    if ('skip' in prepared) return waiter.resolve(prepared);
    const { hash, parsed } = prepared;
    if (!parsed || 'error' in parsed) return waiter.resolve(parsed ? { hash, parsed } : { hash });
    const { keyword, ...passages } = parsed;
    waiter.resolve({ hash, parsed: { ...passages, keyword: { passages: { ...keyword.passages, dictionary: terms }, page: { ...keyword.page, dictionary: terms } } } });
  });
  worker.on('error', failOver);
  worker.on('exit', failOver);
  return thread;
}
