import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { AnswerPipeline } from '../../../src/core/pipeline/answerPipeline.js';
import { MemoryRetriever, sampleChunks } from '../../support/memoryRetriever.js';
import { FaultInjectingOpenAIServer, refusedBaseURL } from '../../support/openaiStubServer.js';
import { logCapture, makePipeline, settlesWithin, waitFor } from './fixtures.js';

const REDIS_SERVER = '/usr/bin/redis-server';
const QUESTION = 'How do I rotate the API signing keys?';

// Needs Debian's redis-server (apt-get install redis-server); skipped where it is not installed.
describe('shared Redis second level', { skip: existsSync(REDIS_SERVER) ? false : `${REDIS_SERVER} not installed` }, () => {
  let server: FaultInjectingOpenAIServer;
  let redis: ChildProcess;
  let redisUrl: string;

  before(async () => {
    server = await FaultInjectingOpenAIServer.start();
    const port = Number(new URL(await refusedBaseURL()).port);
    redis = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    redisUrl = `redis://127.0.0.1:${port}`;
    let listening = false;
    const probe = async () => {
      while (!listening) {
        listening = await new Promise<boolean>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => {
            socket.destroy();
            resolve(true);
          });
          socket.on('error', () => resolve(false));
        });
        if (!listening) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await settlesWithin(probe(), 5_000);
  });
  after(async () => {
    redis.kill();
    await server.close();
  });

  test('a teammate gets the answer from Redis without calling the backend', async () => {
    const alice = makePipeline({ baseURL: server.baseURL, cacheOptions: { redisUrl } });
    const bob = makePipeline({ baseURL: server.baseURL, cacheOptions: { redisUrl }, retriever: new MemoryRetriever(sampleChunks()) });
    try {
      await settlesWithin(waitFor(() => connected(alice.pipeline) && connected(bob.pipeline)), 5_000);
      const first = await alice.pipeline.ask({ question: QUESTION });
      assert.equal(first.cached, false);
      const before = server.requests.length;
      const shared = await bob.pipeline.ask({ question: QUESTION });
      assert.equal(shared.cached, true);
      assert.equal(shared.answer, first.answer);
      assert.equal(server.requests.length, before);
      assert.equal(bob.pipeline.metrics().caches.redis?.hits, 1);
      assert.equal((await bob.pipeline.ask({ question: QUESTION })).cached, true, 'now in the local level too');
    } finally {
      await alice.pipeline.dispose();
      await bob.pipeline.dispose();
    }
  });

  test('a shared answer whose cited file differs here is not served', async () => {
    const alice = makePipeline({ baseURL: server.baseURL, cacheOptions: { redisUrl } });
    const edited = new MemoryRetriever(sampleChunks());
    edited.editFile('security/keys.md', (text) => text.replace('ninety', 'thirty'));
    const bob = makePipeline({ baseURL: server.baseURL, cacheOptions: { redisUrl }, retriever: edited });
    try {
      await settlesWithin(waitFor(() => connected(alice.pipeline) && connected(bob.pipeline)), 5_000);
      await alice.pipeline.ask({ question: 'How often are signing keys rotated?' });
      const answer = await bob.pipeline.ask({ question: 'How often are signing keys rotated?' });
      assert.equal(answer.cached, false);
      assert.ok(answer.citations.some((citation) => citation.text.includes('every thirty days')), 'cites the file as it reads here');
      assert.equal(bob.pipeline.metrics().caches.redis?.misses, 1);
    } finally {
      await alice.pipeline.dispose();
      await bob.pipeline.dispose();
    }
  });

  test('Redis being down degrades to the local cache with one log line, never an error', async () => {
    const logs = logCapture();
    const { pipeline } = makePipeline({ baseURL: server.baseURL, cacheOptions: { redisUrl: `redis://127.0.0.1:${new URL(await refusedBaseURL()).port}` }, logger: logs.logger });
    try {
      const first = await settlesWithin(pipeline.ask({ question: QUESTION }), 5_000);
      assert.equal(first.degraded, false);
      assert.equal((await pipeline.ask({ question: QUESTION })).cached, true);
      await pipeline.ask({ question: 'deploy production pipeline' });
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(pipeline.metrics().sharedCacheConnected, false);
      assert.equal(logs.lines.filter((line) => line.includes('Redis cache unavailable')).length, 1);
    } finally {
      await pipeline.dispose();
    }
  });
});

function connected(pipeline: AnswerPipeline): boolean {
  return pipeline.metrics().sharedCacheConnected === true;
}
