/** Worker-thread entry point of workerParser (parseThreads.ts). Bundled to dist/parseWorker.js. */
import { parentPort, workerData } from 'node:worker_threads';
import { parseResponse, type ParseRequest, type ParserOptions } from './fileParser.js';
import { TermDictionary } from './search/keywordIndex.js';

const port = parentPort!;
const options = workerData as ParserOptions;
const dictionary = new TermDictionary(options.keyword);
let sentTerms = 0;

port.on('message', (request: ParseRequest) => {
  const { response, transfer } = parseResponse(request, options, dictionary, sentTerms);
  sentTerms = dictionary.terms.length;
  port.postMessage(response, transfer);
});
