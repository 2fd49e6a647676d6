import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { OpenAiEmbeddingsEmbedder } from '../../../src/core/embedding/openAiEmbedder.js';

/** A tiny /v1/embeddings server: 3-d vectors derived from the text, returned in reverse order. */
function startServer(): Promise<{ server: Server; baseUrl: string; requests: Array<{ auth?: string; input: string[]; model: string }> }> {
  const requests: Array<{ auth?: string; input: string[]; model: string }> = [];
  const server = createServer(async (request: IncomingMessage, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    const parsed = JSON.parse(body) as { input: string[]; model: string };
    requests.push({ auth: request.headers.authorization, input: parsed.input, model: parsed.model });
    response.setHeader('content-type', 'application/json');
    if (request.url !== '/v1/embeddings') {
      response.statusCode = 404;
      return response.end(JSON.stringify({ error: { message: 'no such route' } }));
    }
    if (parsed.model !== 'test-embed') {
      response.statusCode = 404;
      return response.end(JSON.stringify({ error: { message: `model ${parsed.model} not found` } }));
    }
    const data = parsed.input.map((text, index) => ({ object: 'embedding', index, embedding: [text.length, 2, 0] })).reverse();
    response.end(JSON.stringify({ object: 'list', data, model: parsed.model }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests })),
  );
}

describe('OpenAiEmbeddingsEmbedder against a real HTTP server on 127.0.0.1', () => {
  let fixture: Awaited<ReturnType<typeof startServer>>;
  before(async () => (fixture = await startServer()));
  after(() => fixture.server.close());

  test('batches requests, restores input order, normalises, and learns the dimensions', async () => {
    const embedder = await OpenAiEmbeddingsEmbedder.connect({ baseUrl: `${fixture.baseUrl}/`, model: 'test-embed', apiKey: 'sk-test', batchSize: 2 });
    assert.equal(embedder.dimensions, 3);
    assert.equal(embedder.id, 'openai-compatible:test-embed');
    fixture.requests.length = 0;
    const vectors = await embedder.embed(['a', 'bb', 'ccc', 'dddd', 'eeeee']);
    assert.deepEqual(fixture.requests.map((r) => r.input), [['a', 'bb'], ['ccc', 'dddd'], ['eeeee']]);
    assert.equal(fixture.requests[0]!.auth, 'Bearer sk-test');
    vectors.forEach((vector, i) => {
      const norm = Math.hypot(i + 1, 2);
      assert.ok(Math.abs(vector[0]! - (i + 1) / norm) < 1e-6 && Math.abs(vector[1]! - 2 / norm) < 1e-6, `vector ${i}`);
    });
  });

  test('server errors and unreachable servers fail with clear messages', async () => {
    const wrongModel = new OpenAiEmbeddingsEmbedder({ baseUrl: fixture.baseUrl, model: 'other', dimensions: 3 });
    await assert.rejects(wrongModel.embed(['x']), /answered 404 Not Found: model other not found/);
    const wrongDimensions = new OpenAiEmbeddingsEmbedder({ baseUrl: fixture.baseUrl, model: 'test-embed', dimensions: 384 });
    await assert.rejects(wrongDimensions.embed(['x']), /returned 3-d vectors for model "test-embed", expected 384/);
    const closed = await startServer();
    await new Promise((resolve) => closed.server.close(resolve));
    const unreachable = new OpenAiEmbeddingsEmbedder({ baseUrl: closed.baseUrl, model: 'test-embed', dimensions: 3 });
    await assert.rejects(unreachable.embed(['x']), /cannot reach the embeddings endpoint http:\/\/127\.0\.0\.1:\d+\/v1\/embeddings/);
    await assert.rejects(unreachable.embed(['x'], AbortSignal.abort(new Error('stop'))), /stop/);
  });
});
