import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HashingEmbedder } from '../../../src/core/embedding/hashingEmbedder.js';
import type { ChatMessage } from '../../../src/core/pipeline/prompt.js';
import type { ChatBackend } from '../../../src/core/pipeline/types.js';
import { MemoryRetriever, sampleChunks } from '../../support/memoryRetriever.js';
import { capture, logCapture, makePipeline } from './fixtures.js';

describe('retrieval-only mode, embeddings and negative caching', () => {
  test('without a backend the answer is the best passages with citations, not an error', async () => {
    const { pipeline } = makePipeline();
    const seen = capture();
    const answer = await pipeline.ask({ question: 'How do I rotate the API signing keys?' }, seen.onEvent);
    assert.equal(answer.mode, 'retrieval-only');
    assert.equal(answer.degraded, false);
    assert.equal(answer.citations.length, 2, 'the two passages that match');
    assert.equal(answer.citations[0]!.path, 'security/keys.md');
    assert.equal(answer.citations[0]!.heading, 'Rotating signing keys');
    assert.match(answer.answer, /^Most relevant passages \(no answer backend is configured\):\n\n\[1\] security\/keys\.md:1-10 \(Rotating signing keys\)\n\nRotate the API signing keys/);
    assert.equal(seen.streamedText(), answer.answer);
    assert.ok(seen.events.some((event) => event.type === 'status' && event.stage === 'retrieve'));
    assert.equal((await pipeline.ask({ question: 'how do i rotate the API signing keys' })).cached, true);
  });

  test("a request's own backend (the model picked in the editor's chat) answers it; the next request without one is retrieval-only again", async () => {
    const { pipeline } = makePipeline();
    const prompts: ChatMessage[][] = [];
    const picked: ChatBackend = {
      identity: ['editor', 'picked-model'],
      stream: async (messages, options) => {
        prompts.push(messages);
        options.onToken('Rotate them with keyctl [1].');
        return 'Rotate them with keyctl [1].';
      },
      complete: async () => '',
    };
    const generated = await pipeline.ask({ question: 'How do I rotate the API signing keys?', backend: picked });
    assert.equal(generated.mode, 'generated');
    assert.equal(generated.answer, 'Rotate them with keyctl [1].');
    assert.equal(generated.citations[0]?.path, 'security/keys.md');
    assert.match(prompts[0]!.map((message) => message.content).join('\n'), /\[1\] security\/keys\.md:1-10/, 'the picked model got the numbered sources');
    // The answer cache keys on the backend: the same question without one is not served the generated answer.
    const plain = await pipeline.ask({ question: 'How do I rotate the API signing keys?' });
    assert.equal(plain.mode, 'retrieval-only');
    assert.equal(plain.cached, false);
    assert.equal((await pipeline.ask({ question: 'How do I rotate the API signing keys?', backend: picked })).cached, true);
    assert.equal(prompts.length, 1);
  });

  test('"nothing relevant found" is cached briefly, and only for the same index generation', async () => {
    const { pipeline, retriever } = makePipeline();
    const nothing = await pipeline.ask({ question: 'kubernetes autoscaler quota' });
    assert.deepEqual(nothing.citations, []);
    assert.match(nothing.answer, /Nothing in your docs answers this/);
    const searches = retriever.searches.length;
    assert.equal((await pipeline.ask({ question: 'kubernetes autoscaler quota' })).cached, true);
    assert.equal(retriever.searches.length, searches);
    assert.equal(pipeline.metrics().caches.negative.hits, 1);

    retriever.addFile([{ path: 'ops/k8s.md', startLine: 1, endLine: 4, title: 'k8s', headingPath: ['Autoscaler'], text: 'The kubernetes autoscaler quota is 40 nodes.' }]);
    const found = await pipeline.ask({ question: 'kubernetes autoscaler quota' });
    assert.equal(found.cached, false);
    assert.equal(found.citations[0]?.path, 'ops/k8s.md');
  });

  test('the negative TTL is short', async () => {
    const { pipeline } = makePipeline({ cacheOptions: { negativeTtlMs: 50 } });
    await pipeline.ask({ question: 'kubernetes autoscaler quota' });
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal((await pipeline.ask({ question: 'kubernetes autoscaler quota' })).cached, false);
  });

  test('the query vector comes from the embedder when it matches the index, through the embedding cache', async () => {
    const embedder = new HashingEmbedder(256);
    const { pipeline, retriever } = makePipeline({ embedder, cacheOptions: { answers: { maxEntries: 1 } } });
    await pipeline.ask({ question: 'backups replicas' });
    await pipeline.ask({ question: 'deploy production' });
    await pipeline.ask({ question: 'backups replicas' });
    const vectors = retriever.searches.map((search) => search.queryVector);
    assert.equal(vectors.length, 3);
    assert.ok(vectors.every((vector) => vector instanceof Float32Array && vector.length === 256));
    assert.deepEqual(vectors[2], embedder.embedOne('backups replicas'));
    const { embedding } = pipeline.metrics().caches;
    assert.equal(embedding.hits, 1);
    assert.equal(embedding.misses, 2);
  });

  test('an embedder that does not match the index is not used, with one log line', async () => {
    const logs = logCapture();
    const retriever = new MemoryRetriever(sampleChunks(), { embedderId: 'some-onnx-model' });
    const { pipeline } = makePipeline({ retriever, embedder: new HashingEmbedder(256), logger: logs.logger });
    await pipeline.ask({ question: 'backups replicas' });
    await pipeline.ask({ question: 'deploy production' });
    assert.ok(retriever.searches.every((search) => search.queryVector === undefined));
    assert.equal(logs.lines.filter((line) => line.includes('does not match the index')).length, 1);
  });

  test('empty questions and bad k are rejected with a clear message', async () => {
    const { pipeline } = makePipeline();
    await assert.rejects(pipeline.ask({ question: '   ' }), /The question is empty/);
    await assert.rejects(pipeline.ask({ question: 'backups', k: 0 }), /k must be a positive integer/);
  });
});
