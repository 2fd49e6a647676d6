import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { echoSourcesAnswer, FaultInjectingOpenAIServer } from '../../support/openaiStubServer.js';
import { capture, makePipeline } from './fixtures.js';

describe('streamed generation through the openai client', () => {
  let server: FaultInjectingOpenAIServer;
  before(async () => {
    server = await FaultInjectingOpenAIServer.start({ tokenDelayMs: 1 });
  });
  after(async () => {
    await server.close();
  });

  test('streams tokens that add up to the answer, cites the sources it used, and sends the key', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL });
    const seen = capture();
    const answer = await pipeline.ask({ question: 'How do I rotate the API signing keys?' }, seen.onEvent);

    assert.equal(answer.mode, 'generated');
    assert.equal(answer.degraded, false);
    assert.equal(answer.cached, false);
    assert.ok(seen.events.filter((event) => event.type === 'token').length > 3, 'answer arrived as several tokens');
    assert.equal(seen.streamedText(), answer.answer);
    assert.deepEqual(seen.events.at(-1), { type: 'sources', citations: answer.citations });
    assert.equal(answer.citations[0]?.path, 'security/keys.md');
    assert.equal(answer.citations[0]?.n, 1);
    assert.match(answer.answer, /\[1\] security\/keys\.md/);
    for (const stage of ['normalise', 'cache', 'embed', 'retrieve', 'prompt', 'queue', 'firstToken', 'generate', 'cite', 'store', 'total'] as const) {
      assert.equal(typeof answer.timings[stage], 'number', `stage ${stage} timed`);
    }
    const request = server.streamRequests.at(-1)!;
    assert.equal(request.headers.authorization, 'Bearer test-key');
    assert.equal(request.body.model, 'stub-model');
  });

  test('maps [n] markers to sources in order of mention and drops numbers without a source', async () => {
    server.respond = () => 'Use the rotate command [2][1], see also [1, 9] and [42].';
    try {
      const { pipeline } = makePipeline({ baseURL: server.baseURL });
      const answer = await pipeline.ask({ question: 'signing keys rotate revoke' });
      assert.deepEqual(
        answer.citations.map((citation) => citation.n),
        [2, 1],
      );
      assert.ok(answer.citations.every((citation) => citation.text.length > 0 && citation.endLine >= citation.startLine));
    } finally {
      server.respond = echoSourcesAnswer;
    }
  });

  test('keeps the prompt inside the token budget by dropping lower-ranked sources', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, limits: { maxPromptTokens: 260 }, cacheOptions: { enabled: false } });
    await pipeline.ask({ question: 'backups replicas keys deploy setup' });
    const small = server.streamRequests.at(-1)!.body;
    const smallChars = small.messages.reduce((sum, message) => sum + message.content.length, 0);
    assert.ok(smallChars / 4 <= 260, `prompt of ~${Math.ceil(smallChars / 4)} tokens fits 260`);

    const { pipeline: roomy } = makePipeline({ baseURL: server.baseURL, limits: { maxPromptTokens: 4000 }, cacheOptions: { enabled: false } });
    await roomy.ask({ question: 'backups replicas keys deploy setup' });
    const large = server.streamRequests.at(-1)!.body;
    const count = (body: typeof small) => (body.messages.at(-1)!.content.match(/^\[\d+\] /gm) ?? []).length;
    assert.ok(count(small) < count(large), `${count(small)} sources under a small budget, ${count(large)} under a large one`);
    assert.ok(count(small) >= 1, 'the best source always makes it in');

    // A given tokenizer replaces the chars/4 estimate: one that counts every character as a token is stricter.
    const { pipeline: strict } = makePipeline({
      baseURL: server.baseURL,
      limits: { maxPromptTokens: 1200 },
      cacheOptions: { enabled: false },
      tokenCounter: { count: (text) => text.length },
    });
    await strict.ask({ question: 'backups replicas keys deploy setup' });
    const strictBody = server.streamRequests.at(-1)!.body;
    assert.ok(count(strictBody) < count(large), `${count(strictBody)} sources with a per-character tokenizer`);
    assert.ok(strictBody.messages.reduce((sum, message) => sum + message.content.length, 0) <= 1200);
  });

  test('carries the editor selection with its lines in the prompt, and a different selection is a different answer', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL });
    const selection = { text: 'const replica_backup = true;', languageId: 'typescript', path: 'src/backup.ts', startLine: 12, endLine: 14 };
    await pipeline.ask({ question: 'What does this backup setting do?', selection });
    assert.match(server.streamRequests.at(-1)!.body.messages.at(-1)!.content, /Selected in the editor \(src\/backup\.ts:12-14, typescript\)[\s\S]*replica_backup = true/);
    const again = await pipeline.ask({ question: 'What does this backup setting do?', selection });
    assert.equal(again.cached, true);
    const other = await pipeline.ask({ question: 'What does this backup setting do?', selection: { ...selection, text: 'retention: 14' } });
    assert.equal(other.cached, false);
    const moved = await pipeline.ask({ question: 'What does this backup setting do?', selection: { ...selection, startLine: 40, endLine: 42 } });
    assert.equal(moved.cached, false, 'the lines are part of what the model is told');
  });

  test("a search query (Explain Selection's terms) is searched as given, even after earlier turns; the model gets the question", async () => {
    const { pipeline, retriever } = makePipeline({ baseURL: server.baseURL });
    const selection = { text: 'if (config.replica_backup) takeBackup(standby);', languageId: 'typescript', path: 'src/backup.ts', startLine: 3, endLine: 3 };
    const history = [
      { role: 'user' as const, content: 'How do I rotate the API signing keys?' },
      { role: 'assistant' as const, content: 'With docent-keys rotate [1].' },
    ];
    const searchQuery = 'replica_backup replica backup standby';
    const answer = await pipeline.ask({ question: 'Explain the selected code', history, selection, searchQuery });
    assert.equal(retriever.searches.at(-1)!.query, searchQuery, 'no follow-up rewrite of the given query');
    assert.equal(answer.searchedQuery, searchQuery);
    assert.equal(answer.citations[0]?.path, 'ops/backups.md');
    const prompt = server.streamRequests.at(-1)!.body.messages.at(-1)!.content;
    assert.match(prompt, /Question: Explain the selected code$/, 'the question as asked, without a "standalone form"');
    const other = await pipeline.ask({ question: 'Explain the selected code', history, selection, searchQuery: 'signing keys' });
    assert.equal(other.cached, false, 'another search is another answer');
    assert.equal(other.searchedQuery, 'signing keys');
  });
});
