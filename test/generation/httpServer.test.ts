import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import OpenAI from 'openai';
import { HashingEmbedder } from '../../src/core/embedding/hashingEmbedder.js';
import { GenerationEngine } from '../../src/generation/engine.js';
import { GenerationServer } from '../../src/generation/httpServer.js';
import { modelDir, SMALL_DECODER } from './testModels.js';
import { waitUntil } from '../support/waitUntil.js';

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function raw(url: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // A fresh connection per request, so a closed listener shows as ECONNREFUSED.
    const req = httpRequest(`${url}${path}`, { method, agent: false, headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function assertOpenAiError(response: RawResponse, status: number, code: string | null): void {
  assert.equal(response.status, status, response.body);
  const parsed = JSON.parse(response.body);
  assert.equal(typeof parsed.error.message, 'string');
  assert.ok(parsed.error.message.length > 0);
  assert.equal(typeof parsed.error.type, 'string');
  assert.ok('param' in parsed.error);
  assert.equal(parsed.error.code, code);
}

/** Opens a streaming completion, reads until `chunks` SSE events arrived, then drops the connection. */
function streamThenDisconnect(url: string, body: object, chunks: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
      let seen = 0;
      res.on('data', (c: Buffer) => {
        seen += c.toString().split('data: ').length - 1;
        if (seen >= chunks) {
          req.destroy();
          resolve();
        }
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve() : reject(e)));
    req.end(JSON.stringify(body));
  });
}

async function metric(url: string, name: string): Promise<number> {
  const text = (await raw(url, 'GET', '/metrics')).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

describe('OpenAI-compatible HTTP API', () => {
  let engine: GenerationEngine;
  let server: GenerationServer;
  let url: string;
  let client: OpenAI;
  const embedder = new HashingEmbedder(64);

  before(async () => {
    engine = await GenerationEngine.load(await modelDir('optimum-fp32', SMALL_DECODER), { device: 'cpu', prefillChunk: 16 });
    server = new GenerationServer({ engine, embedder, maxBodyBytes: 64 * 1024 });
    ({ url } = await server.listen(0));
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await server.close();
    await engine.dispose();
  });

  test('binds 127.0.0.1 by default and lists the generation and embedding models', async () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      [engine.modelId, embedder.id],
    );
  });

  test('chat completion, non-streaming, through the openai client', async () => {
    const completion = await client.chat.completions.create({
      model: engine.modelId,
      messages: [{ role: 'user', content: 'How do I rotate keys?' }],
      max_tokens: 12,
      temperature: 0,
      ignore_eos: true,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.model, engine.modelId);
    assert.equal(completion.choices[0]!.message.role, 'assistant');
    assert.equal(completion.choices[0]!.finish_reason, 'length');
    assert.equal(completion.usage!.completion_tokens, 12);
    const expectedPrompt = engine.codec.encode(engine.codec.renderChat([{ role: 'user', content: 'How do I rotate keys?' }]), false);
    assert.equal(completion.usage!.prompt_tokens, expectedPrompt.length);
    // Same request, same greedy text as the engine gives directly.
    const direct = await engine.submit({ promptIds: expectedPrompt, maxTokens: 12, sampling: { temperature: 0, topP: 1, topK: 0 }, ignoreEos: true });
    assert.equal(completion.choices[0]!.message.content, direct.text);
  });

  test('chat completion, streaming with include_usage, assembles to the non-streaming text', async () => {
    const params = { model: engine.modelId, messages: [{ role: 'user' as const, content: 'Where is the runbook?' }], max_tokens: 16, temperature: 0, seed: 3, ignore_eos: true };
    const whole = await client.chat.completions.create(params as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } } as OpenAI.ChatCompletionCreateParamsStreaming);
    let text = '';
    let role: string | undefined;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.equal(chunk.object, 'chat.completion.chunk');
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      role ??= choice.delta.role;
      text += choice.delta.content ?? '';
      finish = choice.finish_reason ?? finish;
    }
    assert.ok(chunks > 3, 'tokens arrive as separate events');
    assert.equal(role, 'assistant');
    assert.equal(text, whole.choices[0]!.message.content);
    assert.equal(finish, 'length');
    assert.deepEqual(usage, whole.usage);
  });

  test('text completions, streaming and not, with a stop string', async () => {
    const base = { model: engine.modelId, prompt: 'The signing keys', max_tokens: 20, temperature: 0, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming;
    const whole = await client.completions.create(base);
    assert.equal(whole.object, 'text_completion');
    assert.equal(whole.choices[0]!.finish_reason, 'length');
    const fullText = whole.choices[0]!.text;
    const stop = fullText.slice(8, 10);
    const stopped = await client.completions.create({ ...base, stop: [stop] });
    assert.equal(stopped.choices[0]!.finish_reason, 'stop');
    assert.equal(stopped.choices[0]!.text, fullText.slice(0, fullText.indexOf(stop)));

    let streamed = '';
    for await (const chunk of await client.completions.create({ ...base, stream: true } as OpenAI.CompletionCreateParamsStreaming)) streamed += chunk.choices[0]?.text ?? '';
    assert.equal(streamed, fullText);
  });

  test('raw SSE framing: data lines, a final finish_reason, usage, then [DONE]', async () => {
    const response = await raw(
      url,
      'POST',
      '/v1/completions',
      JSON.stringify({ model: engine.modelId, prompt: 'hi', max_tokens: 3, temperature: 0, stream: true, stream_options: { include_usage: true } }),
    );
    assert.equal(response.status, 200);
    assert.match(response.headers['content-type'] ?? '', /^text\/event-stream/);
    const events = response.body.split('\n\n').filter(Boolean);
    assert.ok(events.every((e) => e.startsWith('data: ')));
    assert.equal(events.at(-1), 'data: [DONE]');
    const usageEvent = JSON.parse(events.at(-2)!.slice(6));
    assert.deepEqual(usageEvent.choices, []);
    assert.equal(usageEvent.usage.total_tokens, usageEvent.usage.prompt_tokens + usageEvent.usage.completion_tokens);
  });

  test('embeddings through the openai client (base64 by default) and as floats', async () => {
    const texts = ['rotate the signing keys', 'on-call handover runbook'];
    const viaClient = await client.embeddings.create({ model: embedder.id, input: texts });
    const expected = await embedder.embed(texts);
    assert.equal(viaClient.data.length, 2);
    viaClient.data.forEach((item, i) => {
      assert.equal(item.index, i);
      assert.equal(item.embedding.length, 64);
      item.embedding.forEach((value, j) => assert.ok(Math.abs(value - expected[i]![j]!) < 1e-6));
    });
    const floats = await raw(url, 'POST', '/v1/embeddings', JSON.stringify({ model: embedder.id, input: 'rotate the signing keys', encoding_format: 'float' }));
    assert.deepEqual(JSON.parse(floats.body).data[0].embedding, Array.from(expected[0]!));
  });

  test('health and Prometheus metrics', async () => {
    const health = JSON.parse((await raw(url, 'GET', '/health')).body);
    assert.equal(health.status, 'ok');
    assert.equal(health.model, engine.modelId);
    assert.equal(health.device, 'CPU');
    const metrics = (await raw(url, 'GET', '/metrics')).body;
    for (const name of ['docent_queue_depth', 'docent_batch_size', 'docent_tokens_per_second', 'docent_time_to_first_token_seconds_count', 'docent_inter_token_latency_seconds_count']) {
      assert.match(metrics, new RegExp(`^${name} `, 'm'), name);
    }
    assert.ok((await metric(url, 'docent_generated_tokens_total')) > 0);
    assert.ok((await metric(url, 'docent_time_to_first_token_seconds_count')) > 0);
  });

  test('bad input gets 4xx OpenAI-style errors and the server keeps serving', async () => {
    const post = (path: string, body: string | Buffer) => raw(url, 'POST', path, body);
    assertOpenAiError(await post('/v1/chat/completions', '{"model": '), 400, 'invalid_json');
    assertOpenAiError(await post('/v1/chat/completions', '[]'), 400, null);
    assertOpenAiError(await post('/v1/chat/completions', JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })), 404, 'model_not_found');
    assertOpenAiError(await post('/v1/chat/completions', JSON.stringify({ model: engine.modelId, messages: [] })), 400, null);
    assertOpenAiError(await post('/v1/chat/completions', JSON.stringify({ model: engine.modelId, messages: [{ role: 'user', content: 5 }] })), 400, null);
    assertOpenAiError(await post('/v1/completions', JSON.stringify({ model: engine.modelId, prompt: 'x', temperature: 'hot' })), 400, null);
    assertOpenAiError(await post('/v1/completions', JSON.stringify({ model: engine.modelId, prompt: 'x', n: 3 })), 400, null);
    assertOpenAiError(await post('/v1/completions', JSON.stringify({ model: engine.modelId, prompt: 'word '.repeat(400) })), 400, 'context_length_exceeded');
    assertOpenAiError(await post('/v1/completions', JSON.stringify({ model: engine.modelId, prompt: [1, 2, 3] })), 400, null);
    assertOpenAiError(await post('/v1/completions', JSON.stringify({ model: engine.modelId, prompt: 'x', stop: 5 })), 400, null);
    assertOpenAiError(await post('/v1/completions', JSON.stringify({ model: engine.modelId, prompt: 'x', stream: 'yes' })), 400, null);
    assertOpenAiError(await post('/v1/completions', JSON.stringify({ model: engine.modelId, prompt: 'x', max_tokens: 0 })), 400, null);
    assertOpenAiError(await post('/v1/chat/completions', JSON.stringify({ model: engine.modelId, messages: [{ content: 'no role' }] })), 400, null);
    assertOpenAiError(await post('/v1/chat/completions', JSON.stringify({ model: engine.modelId, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] })), 400, null);
    assertOpenAiError(await post('/v1/embeddings', JSON.stringify({ model: embedder.id, input: [[1, 2, 3]] })), 400, null);
    assertOpenAiError(await post('/v1/embeddings', JSON.stringify({ model: engine.modelId, input: 'x' })), 404, 'model_not_found');
    assertOpenAiError(await post('/v1/completions', Buffer.alloc(100 * 1024, 'a')), 413, 'request_too_large');
    assertOpenAiError(await raw(url, 'GET', '/v1/chat/completions'), 405, 'method_not_allowed');
    assertOpenAiError(await raw(url, 'GET', '/v2/anything'), 404, 'unknown_url');
    // The client library turns these into typed errors, too.
    await assert.rejects(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }), (e: unknown) => e instanceof OpenAI.NotFoundError);
    assert.equal((await raw(url, 'GET', '/health')).status, 200);
  });

  test('a client that disconnects mid-stream cancels its sequence', async () => {
    const cancelledBefore = await metric(url, 'docent_requests_finished_total{reason="cancelled"}');
    await streamThenDisconnect(url, { model: engine.modelId, prompt: 'hello', max_tokens: 200, temperature: 0, ignore_eos: true, stream: true }, 3);
    await waitUntil('the cancelled request to be counted', async () => (await metric(url, 'docent_requests_finished_total{reason="cancelled"}')) === cancelledBefore + 1, 30_000, 10);
    // The step that was running when the client left finishes in the decoder worker; then the engine is idle.
    await waitUntil('the engine to go idle', async () => engine.gauges().activeSequences === 0 && engine.gauges().batchSize === 0, 30_000, 10);
    assert.deepEqual(engine.gauges(), { queueDepth: 0, activeSequences: 0, batchSize: 0 });
  });
});

describe('HTTP API limits', () => {
  test('bearer key: 401 without or with a wrong key, 200 with it; health stays open', async () => {
    const engine = await GenerationEngine.load(await modelDir('optimum-fp32', SMALL_DECODER), { device: 'cpu' });
    const server = new GenerationServer({ engine, apiKey: 'sekret' });
    const { url } = await server.listen(0);
    try {
      assertOpenAiError(await raw(url, 'GET', '/v1/models'), 401, 'invalid_api_key');
      assertOpenAiError(await raw(url, 'GET', '/v1/models', undefined, { Authorization: 'Bearer wrong' }), 401, 'invalid_api_key');
      // Prefixes and extensions of the key: compared in constant time, never by length first.
      assertOpenAiError(await raw(url, 'GET', '/v1/models', undefined, { Authorization: 'Bearer sekre' }), 401, 'invalid_api_key');
      assertOpenAiError(await raw(url, 'GET', '/v1/models', undefined, { Authorization: 'Bearer sekret2' }), 401, 'invalid_api_key');
      await assert.rejects(new OpenAI({ baseURL: `${url}/v1`, apiKey: 'wrong', maxRetries: 0 }).models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError);
      const models = await new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sekret', maxRetries: 0 }).models.list();
      assert.equal(models.data[0]!.id, engine.modelId);
      assert.equal((await raw(url, 'GET', '/health')).status, 200);
    } finally {
      await server.close();
      await engine.dispose();
    }
  });

  test('a full queue answers 429 with Retry-After; close() drains in-flight requests', async () => {
    const engine = await GenerationEngine.load(await modelDir('optimum-fp32', SMALL_DECODER), { device: 'cpu', maxBatch: 1, maxQueue: 1 });
    const server = new GenerationServer({ engine });
    const { url } = await server.listen(0);
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
    const body = { model: engine.modelId, prompt: 'hello', max_tokens: 150, temperature: 0, ignore_eos: true };
    try {
      const running = client.completions.create(body as OpenAI.CompletionCreateParamsNonStreaming);
      await waitUntil('one active sequence', () => engine.gauges().activeSequences === 1, 30_000, 10);
      const queued = client.completions.create(body as OpenAI.CompletionCreateParamsNonStreaming);
      await waitUntil('one queued request', () => engine.gauges().queueDepth === 1, 30_000, 10);
      const refused = await raw(url, 'POST', '/v1/completions', JSON.stringify(body));
      assertOpenAiError(refused, 429, 'rate_limit_exceeded');
      assert.equal(refused.headers['retry-after'], '1');

      // Drain: both accepted requests complete in full; new connections are refused meanwhile
      // (idle keep-alive connections are closed; a request racing onto a busy one gets 503).
      const closing = server.close();
      await assert.rejects(raw(url, 'GET', '/health'), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
      const [first, second] = await Promise.all([running, queued]);
      assert.equal(first.usage!.completion_tokens, 150);
      assert.equal(second.usage!.completion_tokens, 150);
      await closing;
      assert.equal(server.http.listening, false);
    } finally {
      if (server.http.listening) await server.close();
      await engine.dispose();
    }
  });
});

describe('HTTP API: only this machine, only on purpose', { timeout: 60_000 }, () => {
  // A fresh engine per test: a server's close() drains its engine for good.
  let engine: GenerationEngine;
  beforeEach(async () => {
    engine = await GenerationEngine.load(await modelDir('optimum-fp32', SMALL_DECODER), { device: 'cpu' });
  });
  afterEach(() => engine.dispose());

  test('refuses a Host that is not the bound address (DNS rebinding) and a foreign Origin (CSRF)', async () => {
    const server = new GenerationServer({ engine });
    const { url, port } = await server.listen(0);
    try {
      assertOpenAiError(await raw(url, 'GET', '/v1/models', undefined, { Host: `rebound.example:${port}` }), 403, 'host_not_allowed');
      assertOpenAiError(await raw(url, 'GET', '/health', undefined, { Host: `127.0.0.1:${port + 1}` }), 403, 'host_not_allowed');
      assertOpenAiError(await raw(url, 'GET', '/v1/models', undefined, { Origin: 'https://evil.example' }), 403, 'origin_not_allowed');
      const body = JSON.stringify({ model: engine.modelId, prompt: 'hi', max_tokens: 2 });
      assertOpenAiError(await raw(url, 'POST', '/v1/completions', body, { Origin: 'null' }), 403, 'origin_not_allowed');
      assert.equal((await raw(url, 'GET', '/v1/models', undefined, { Host: `localhost:${port}` })).status, 200);
      assert.equal((await raw(url, 'GET', '/v1/models', undefined, { Origin: url })).status, 200);
    } finally {
      await server.close();
    }
    const proxiedEngine = await GenerationEngine.load(await modelDir('optimum-fp32', SMALL_DECODER), { device: 'cpu' });
    const proxied = new GenerationServer({ engine: proxiedEngine, allowedHosts: ['llm.internal:443'], allowedOrigins: ['https://tools.internal'] });
    const { url: proxiedUrl } = await proxied.listen(0);
    try {
      const headers = { Host: 'llm.internal:443', Origin: 'https://tools.internal' };
      assert.equal((await raw(proxiedUrl, 'GET', '/v1/models', undefined, headers)).status, 200);
    } finally {
      await proxied.close();
      await proxiedEngine.dispose();
    }
  });

  test('--allow-host names: a bare name matches with no port and at the bound port, name:port only there; any other Host stays refused', async () => {
    const server = new GenerationServer({ engine, allowedHosts: ['llm.internal', 'tools.internal:8443'] });
    const { url, port } = await server.listen(0);
    try {
      for (const host of ['llm.internal', `llm.internal:${port}`, 'tools.internal:8443', `127.0.0.1:${port}`]) {
        assert.equal((await raw(url, 'GET', '/v1/models', undefined, { Host: host })).status, 200, host);
      }
      for (const host of ['llm.internal:9999', 'tools.internal', 'evil.llm.internal', `rebound.example:${port}`]) {
        assertOpenAiError(await raw(url, 'GET', '/v1/models', undefined, { Host: host }), 403, 'host_not_allowed');
      }
      // A page the proxy serves under the allowed name is same-origin; another site is not.
      assert.equal((await raw(url, 'GET', '/v1/models', undefined, { Host: 'llm.internal', Origin: 'https://llm.internal' })).status, 200);
      assertOpenAiError(await raw(url, 'GET', '/v1/models', undefined, { Host: 'llm.internal', Origin: 'https://evil.example' }), 403, 'origin_not_allowed');
    } finally {
      await server.close();
    }
  });

  test('bound to 0.0.0.0, the Host may be any address of this machine (loopback included) but not a DNS name', async () => {
    const server = new GenerationServer({ engine });
    const { url, port } = await server.listen(0, '0.0.0.0');
    try {
      assert.equal(url, `http://0.0.0.0:${port}`);
      const local = `http://127.0.0.1:${port}`;
      const addresses = Object.values(networkInterfaces()).flatMap((entries) => entries ?? []).filter((entry) => entry.family === 'IPv4').map((entry) => entry.address);
      for (const address of ['127.0.0.1', ...addresses]) {
        assert.equal((await raw(local, 'GET', '/v1/models', undefined, { Host: `${address}:${port}` })).status, 200, address);
      }
      assertOpenAiError(await raw(local, 'GET', '/v1/models', undefined, { Host: `rebound.example:${port}` }), 403, 'host_not_allowed');
      assertOpenAiError(await raw(local, 'GET', '/v1/models', undefined, { Host: `192.0.2.1:${port}` }), 403, 'host_not_allowed');
    } finally {
      await server.close();
    }
  });

  test('a POST must be application/json: a text/plain body (what a cross-site form sends) gets 415', async () => {
    const server = new GenerationServer({ engine });
    const { url } = await server.listen(0);
    try {
      const body = JSON.stringify({ model: engine.modelId, prompt: 'hi', max_tokens: 2 });
      assertOpenAiError(await raw(url, 'POST', '/v1/completions', body, { 'Content-Type': 'text/plain' }), 415, 'unsupported_media_type');
      assertOpenAiError(await raw(url, 'POST', '/v1/completions', body, { 'Content-Type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
      assert.equal((await raw(url, 'POST', '/v1/completions', body, { 'Content-Type': 'application/json; charset=utf-8' })).status, 200);
    } finally {
      await server.close();
    }
  });

  test('connections beyond the cap are closed on arrival; the rest are served', async () => {
    const server = new GenerationServer({ engine, maxConnections: 2 });
    const { url, port } = await server.listen(0);
    const sockets = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
    try {
      await Promise.all(sockets.map((socket) => once(socket, 'connect')));
      await waitUntil('both connections counted', () => new Promise<boolean>((resolve) => server.http.getConnections((_, count) => resolve(count === 2))), 5_000, 10);
      const extra = connect(port, '127.0.0.1');
      extra.on('error', () => {});
      const fate = await Promise.race([once(extra, 'close').then(() => 'closed'), new Promise((resolve) => setTimeout(resolve, 3_000, 'left open'))]);
      extra.destroy();
      assert.equal(fate, 'closed');
      for (const socket of sockets) socket.destroy();
      await waitUntil('the connections to go', () => new Promise<boolean>((resolve) => server.http.getConnections((_, count) => resolve(count === 0))), 5_000, 10);
      assert.equal((await raw(url, 'GET', '/health')).status, 200);
    } finally {
      for (const socket of sockets) socket.destroy();
      await server.close();
    }
  });

  test('close() ends what still runs at the drain deadline instead of waiting for it forever', async () => {
    const server = new GenerationServer({ engine, drainTimeoutMs: 300 });
    const { port } = await server.listen(0);
    // A request whose body never finishes: without a deadline it would hold close() until the socket timeout.
    const stuck = connect(port, '127.0.0.1');
    await once(stuck, 'connect');
    stuck.on('error', () => {});
    stuck.write(`POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model"`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    const closed = await Promise.race([server.close().then(() => 'closed'), new Promise((resolve) => setTimeout(resolve, 5_000, 'still waiting'))]);
    stuck.destroy();
    assert.equal(closed, 'closed');
    assert.ok(Date.now() - started < 3_000, `close took ${Date.now() - started} ms`);
    assert.equal(server.http.listening, false);
  });
});
