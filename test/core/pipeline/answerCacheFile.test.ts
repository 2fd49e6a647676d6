import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { AnswerCacheFile, type PersistedEntry } from '../../../src/core/pipeline/answerCacheFile.js';
import type { PersistentCacheOptions } from '../../../src/core/pipeline/types.js';
import { MemoryRetriever, sampleChunks } from '../../support/memoryRetriever.js';
import type { FaultInjectingOpenAIServer } from '../../support/openaiStubServer.js';
import { makeTempDir } from '../../support/tempDocs.js';
import { logCapture, makePipeline, useStubServer } from './fixtures.js';

const QUESTION = 'How do I rotate the API signing keys?';

describe('the answer cache file: answers outlive the process that made them', () => {
  let server!: FaultInjectingOpenAIServer;
  useStubServer((started) => (server = started));

  async function persistent(overrides: Partial<PersistentCacheOptions> = {}): Promise<PersistentCacheOptions> {
    return { file: path.join(await makeTempDir('answer-cache'), 'answer-cache.jsonl'), maxBytes: 1024 * 1024, scope: 'docs', ...overrides };
  }

  /** A pipeline as a new process would make it: its own retriever over the same index, started from the file. */
  async function restarted(options: PersistentCacheOptions, retriever = new MemoryRetriever(sampleChunks())) {
    const made = makePipeline({ baseURL: server.baseURL, retriever, cacheOptions: { persistent: options } });
    await made.pipeline.loadPersistentCache();
    return made;
  }

  test('a new pipeline over the same index serves the saved answer without asking the backend', async () => {
    const options = await persistent();
    const first = await restarted(options);
    const answered = await first.pipeline.ask({ question: QUESTION });
    assert.equal(answered.cached, false);
    await first.pipeline.dispose();

    const second = await restarted(options);
    const before = server.streamRequests.length;
    const again = await second.pipeline.ask({ question: '  how do I rotate the api signing keys ' });
    assert.equal(again.cached, true);
    assert.equal(again.answer, answered.answer);
    assert.deepEqual(again.citations, answered.citations);
    assert.equal(server.streamRequests.length, before, 'no backend call');
    await second.pipeline.dispose();
  });

  test('a cited file that changed in between is never served from the file, and the stale entry is replaced', async () => {
    const options = await persistent();
    const first = await restarted(options);
    const old = await first.pipeline.ask({ question: QUESTION });
    await first.pipeline.dispose();

    const edited = new MemoryRetriever(sampleChunks());
    edited.editFile('security/keys.md', (text) => text.replace('ninety', 'thirty'));
    const second = await restarted(options, edited);
    const fresh = await second.pipeline.ask({ question: QUESTION });
    assert.equal(fresh.cached, false);
    assert.match(fresh.citations[0]!.text, /thirty/);
    assert.equal(second.pipeline.metrics().invalidations, 1);
    await second.pipeline.dispose();
    const saved = await fs.readFile(options.file, 'utf8');
    assert.doesNotMatch(saved, /every ninety days/, 'the file no longer holds the outdated passage');
    assert.notEqual(fresh.answer.length, 0);
    assert.ok(old.citations[0]!.text.includes('ninety'));
  });

  test('saves asked for while a write is in progress coalesce into one more write, not a queued snapshot each', async () => {
    const options = await persistent();
    let snapshots = 0;
    let state: Array<[string, PersistedEntry]> = [];
    const file = new AnswerCacheFile(options, () => {
      snapshots++;
      return state;
    });
    const entry = (n: number): [string, PersistedEntry] => [`key-${n}`, { start: Date.now(), ttl: 60_000, value: { answer: `answer ${n}`, citations: [], mode: 'generated', query: `q ${n}`, generation: 1, retrievedIds: [], sourceHashes: [] } }];
    // 200 saves in one tick: the first write cannot have finished, so all but the first coalesce.
    const flushes: Promise<void>[] = [];
    for (let n = 0; n < 200; n++) {
      state = [...state, entry(n)];
      file.saveSoon();
      flushes.push(file.flush());
    }
    await Promise.all(flushes);
    assert.equal(snapshots, 2, 'the write in progress and one more of the latest state');
    const saved = await file.load();
    assert.equal(saved.length, 200);
    assert.equal(saved.at(-1)![0], 'key-199');
  });

  test('the file is bounded by bytes and keeps the newest answers', async () => {
    const options = await persistent({ maxBytes: 6_000 });
    const first = await restarted(options);
    const questions = Array.from({ length: 12 }, (_, i) => `rotate the API signing keys, variant ${i}`);
    for (const question of questions) await first.pipeline.ask({ question });
    await first.pipeline.dispose();
    const size = (await fs.stat(options.file)).size;
    assert.ok(size <= 6_000 + 200, `file of ${size} bytes within its bound (plus the header line)`);

    const second = await restarted(options);
    assert.equal((await second.pipeline.ask({ question: questions.at(-1)! })).cached, true, 'the newest answer is kept');
    assert.equal((await second.pipeline.ask({ question: questions[0]! })).cached, false, 'the oldest gave way');
    await second.pipeline.dispose();
  });

  test('a file of other folders, a corrupt file or line, and expired entries are ignored, never fatal', async () => {
    const options = await persistent();
    const first = await restarted(options);
    await first.pipeline.ask({ question: QUESTION });
    await first.pipeline.dispose();
    const saved = await fs.readFile(options.file, 'utf8');

    const otherScope = await restarted({ ...options, scope: 'other folders' });
    assert.equal((await otherScope.pipeline.ask({ question: QUESTION })).cached, false);
    await otherScope.pipeline.dispose(); // rewrites the file for its own scope

    await fs.writeFile(options.file, saved.replace(/\n$/, '\n{"not json\n'));
    const corruptLine = await restarted(options);
    assert.equal((await corruptLine.pipeline.ask({ question: QUESTION })).cached, true, 'a broken line costs only that entry');

    await fs.writeFile(options.file, '\u0000garbage');
    const corrupt = await restarted(options);
    assert.equal((await corrupt.pipeline.ask({ question: QUESTION })).cached, false);

    const [header, entry] = saved.trim().split('\n');
    const parsed = JSON.parse(entry!) as [string, { start: number; ttl: number }];
    parsed[1].start = Date.now() - parsed[1].ttl - 1;
    await fs.writeFile(options.file, `${header}\n${JSON.stringify(parsed)}\n`);
    const expired = await restarted(options);
    assert.equal((await expired.pipeline.ask({ question: QUESTION })).cached, false);
    await Promise.all([corruptLine, corrupt, expired].map((made) => made.pipeline.dispose()));
  });

  test('clearCache empties the file too; a file that cannot be written is logged once and costs only hits', async () => {
    const options = await persistent();
    const first = await restarted(options);
    await first.pipeline.ask({ question: QUESTION });
    first.pipeline.clearCache();
    await first.pipeline.dispose();
    assert.equal((await fs.readFile(options.file, 'utf8')).trim().split('\n').length, 1, 'only the header is left');

    const log = logCapture();
    const unwritable = makePipeline({ baseURL: server.baseURL, logger: log.logger, cacheOptions: { persistent: { ...options, file: path.join(options.file, 'no-such-dir', 'f.jsonl') } } });
    await unwritable.pipeline.loadPersistentCache();
    await unwritable.pipeline.ask({ question: QUESTION });
    await new Promise((resolve) => setTimeout(resolve, 700)); // the first save runs and fails
    await unwritable.pipeline.ask({ question: 'another question about signing keys' });
    await unwritable.pipeline.dispose();
    assert.equal(log.lines.filter((line) => /could not save the answer cache/.test(line)).length, 1);
  });
});
