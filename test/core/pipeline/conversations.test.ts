import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { looksLikeFollowUp, rewriteFollowUpHeuristically } from '../../../src/core/pipeline/conversations.js';
import { echoSourcesAnswer, type FaultInjectingOpenAIServer } from '../../support/openaiStubServer.js';
import { logCapture, makePipeline, useStubServer } from './fixtures.js';

describe('conversations', () => {
  let server!: FaultInjectingOpenAIServer;
  useStubServer((started) => (server = started));

  test('the heuristic folds a follow-up into the previous question', () => {
    const history = [
      { role: 'user' as const, content: 'How do I configure backups?' },
      { role: 'assistant' as const, content: 'Edit backup.yaml [1].' },
    ];
    assert.equal(rewriteFollowUpHeuristically('and for replicas?', history), 'How do I configure backups for replicas?');
    assert.equal(rewriteFollowUpHeuristically('How do I deploy to production?', history), 'How do I deploy to production?');
    assert.equal(looksLikeFollowUp('what about it'), true);
    assert.equal(looksLikeFollowUp('How do I rotate the API signing keys'), false);
    // A new topic that happens to contain "that"/"it"/few words stays as asked.
    for (const standalone of ['How do I delete a file that is still open?', 'Is it possible to overload operators in Rust?', 'pg_dump options', 'What is this project\'s license?']) {
      assert.equal(looksLikeFollowUp(standalone), false, standalone);
    }
    for (const dependent of ['How do I restore it?', 'Does this handle quoted fields?', 'In reverse order?', 'recursively?', 'Can you give an example?', 'Which one is the default?']) {
      assert.equal(looksLikeFollowUp(dependent), true, dependent);
    }
  });

  test('without a backend, a follow-up in a stored conversation retrieves with the standalone query', async () => {
    const { pipeline, retriever } = makePipeline();
    await pipeline.ask({ question: 'How do I configure backups?', conversationId: 'c1' });
    const followUp = await pipeline.ask({ question: 'and for replicas?', conversationId: 'c1' });
    assert.equal(retriever.searches.at(-1)!.query, 'How do I configure backups for replicas?');
    assert.equal(followUp.searchedQuery, 'How do I configure backups for replicas?', 'the answer says what was searched');
    assert.ok(followUp.citations.some((citation) => citation.heading === 'Replica backups'));
    const newTopic = await pipeline.ask({ question: 'How do I delete a file that is still open?', conversationId: 'c1' });
    assert.equal(newTopic.searchedQuery, 'How do I delete a file that is still open?');
    assert.equal(retriever.searches.at(-1)!.query, 'How do I delete a file that is still open?');
    const history = [{ role: 'user' as const, content: 'How do I configure backups?' }];
    await pipeline.ask({ question: 'and for replicas?', history });
    const again = await pipeline.ask({ question: 'and for replicas?', history });
    assert.equal(again.cached, true);
    assert.equal(again.searchedQuery, 'How do I configure backups for replicas?', 'a cached answer still says what was searched');
    assert.equal(pipeline.metrics().conversations, 1);
  });

  test('with a backend, the backend rewrites the follow-up and the prompt carries the history', async () => {
    server.respond = (body) => (body.stream ? echoSourcesAnswer(body) : 'How are replica backups configured?');
    try {
      const { pipeline, retriever } = makePipeline({ baseURL: server.baseURL });
      await pipeline.ask({ question: 'How do I configure backups?', conversationId: 'c2' });
      await pipeline.ask({ question: 'and for replicas?', conversationId: 'c2' });
      assert.equal(retriever.searches.at(-1)!.query, 'How are replica backups configured?');
      const rewrite = server.requests.filter((request) => !request.body.stream).at(-1)!;
      assert.match(rewrite.body.messages[0]!.content, /standalone search query/);
      const answerPrompt = server.streamRequests.at(-1)!.body.messages;
      assert.deepEqual(
        answerPrompt.map((message) => message.role),
        ['system', 'user', 'assistant', 'user'],
      );
      assert.match(answerPrompt.at(-1)!.content, /Question: and for replicas\?\n\(Standalone form: How are replica backups configured\?\)/);
    } finally {
      server.respond = echoSourcesAnswer;
    }
  });

  test('a failing backend rewrite falls back to the heuristic with one log line', async () => {
    const logs = logCapture();
    const { pipeline, retriever } = makePipeline({ baseURL: server.baseURL, logger: logs.logger, limits: { maxRetries: 0 } });
    const history = [
      { role: 'user' as const, content: 'How do I configure backups?' },
      { role: 'assistant' as const, content: 'Edit backup.yaml [1].' },
    ];
    server.script({ kind: 'status', status: 500 });
    const answer = await pipeline.ask({ question: 'and for replicas?', history });
    assert.equal(retriever.searches.at(-1)!.query, 'How do I configure backups for replicas?');
    assert.equal(answer.degraded, false);
    assert.equal(logs.lines.filter((line) => line.includes('rewrite by the backend failed')).length, 1);
  });

  test('history is bounded by turns and tokens', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, limits: { maxHistoryTurns: 2, maxHistoryTokens: 10_000 } });
    const history = Array.from({ length: 10 }, (_, i) => ({ role: i % 2 === 0 ? ('user' as const) : ('assistant' as const), content: `turn ${i} about backups` }));
    await pipeline.ask({ question: 'How do I rotate the API signing keys?', history });
    const roles = server.streamRequests.at(-1)!.body.messages.map((message) => message.role);
    assert.equal(roles.length, 1 + 4 + 1, 'system, two question/answer pairs, the question');
    assert.match(server.streamRequests.at(-1)!.body.messages[1]!.content, /turn 6/);

    const { pipeline: tight } = makePipeline({ baseURL: server.baseURL, limits: { maxHistoryTurns: 10, maxHistoryTokens: 20 } });
    await tight.ask({ question: 'How do I rotate the API signing keys?', history });
    const kept = server.streamRequests.at(-1)!.body.messages.slice(1, -1);
    assert.ok(kept.length >= 1 && kept.length < 4, `${kept.length} turns fit 20 tokens`);
    assert.match(kept.at(-1)!.content, /turn 9/);
  });

  test('conversations are bounded in number and expire when idle', async () => {
    const { pipeline, retriever } = makePipeline({ limits: { maxConversations: 2, conversationIdleMs: 100 } });
    for (const id of ['a', 'b', 'c']) await pipeline.ask({ question: 'How do I configure backups?', conversationId: id });
    assert.equal(pipeline.metrics().conversations, 2);
    await pipeline.ask({ question: 'and for replicas?', conversationId: 'a' });
    assert.equal(retriever.searches.at(-1)!.query, 'and for replicas?', 'the evicted conversation has no history');
    await new Promise((resolve) => setTimeout(resolve, 150));
    await pipeline.ask({ question: 'and for replicas?', conversationId: 'c' });
    assert.equal(retriever.searches.at(-1)!.query, 'and for replicas?', 'the idle conversation expired');
  });
});
