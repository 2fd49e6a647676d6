import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeywordIndex, sumStatistics } from '../../../src/core/search/keywordIndex.js';
import { identifierParts, keywordTokens } from '../../../src/core/search/tokenize.js';

test('identifier-aware tokens: camelCase, snake_case and dotted names yield the whole and the parts', () => {
  assert.deepEqual(identifierParts('maxBatchBytes'), ['max', 'Batch', 'Bytes']);
  assert.deepEqual(identifierParts('HTTPServer'), ['HTTP', 'Server']);
  assert.deepEqual(identifierParts('retention_days'), ['retention', 'days']);
  const tokens = keywordTokens('Call fs.readFile, then LumenClient.sendBatch with retention_days');
  for (const expected of ['fs.readfile', 'read', 'file', 'lumenclient.sendbatch', 'lumen', 'client', 'send', 'batch', 'retention_days', 'retent', 'dai']) {
    assert.ok(tokens.includes(expected), `missing ${expected} in ${tokens.join(' ')}`);
  }
  assert.ok(!tokens.includes('then') && !tokens.includes('with'), 'stop words are dropped');
});

test('stemming makes inflections meet: "rotating keys" finds "rotate the key"', () => {
  const index = new KeywordIndex();
  index.add(1, { title: 'Rotation', headings: '', body: 'How to rotate the signing key every 90 days.' });
  index.add(2, { title: 'Billing', headings: '', body: 'Invoices are sent monthly.' });
  assert.deepEqual(index.search('rotating keys', 10).map((hit) => hit.id), [1]);
});

test('title and heading terms outrank a passing mention in a long body', () => {
  const index = new KeywordIndex();
  const filler = 'lorem ipsum dolor sit amet '.repeat(40);
  index.add(1, { title: 'Ingestion API', headings: 'Errors', body: `${filler} retention is mentioned once here.` });
  index.add(2, { title: 'Retention policies', headings: 'Retention › Defaults', body: `Events are kept for a configured period. ${filler}` });
  assert.equal(index.search('retention', 10)[0]!.id, 2);
});

test('remove and re-add keep statistics consistent; serialisation round-trips exactly', () => {
  const index = new KeywordIndex();
  index.add(1, { title: 'A', headings: '', body: 'alpha beta gamma' });
  index.add(2, { title: 'B', headings: '', body: 'beta delta' });
  index.add(3, { title: 'C', headings: '', body: 'gamma epsilon' });
  assert.equal(index.remove(2), true);
  assert.equal(index.remove(2), false);
  assert.deepEqual(index.search('delta', 10), []);
  index.add(1, { title: 'A', headings: '', body: 'zeta only now' });
  assert.deepEqual(index.search('alpha', 10), [], 'an updated chunk forgets its old terms');
  const copy = KeywordIndex.deserialize(JSON.parse(JSON.stringify(index.serialize())));
  for (const query of ['zeta', 'gamma epsilon', 'a', 'nothing']) assert.deepEqual(copy.search(query, 10), index.search(query, 10));
  assert.throws(() => KeywordIndex.deserialize({ version: 9 } as never), /unsupported or corrupt/);
});

test('summed collection statistics score each index as if all documents were in one', () => {
  // Equal lengths, so only IDF differs between the split and the whole.
  const texts = ['quokka ledger job runs nightly', 'a job runs on schedule daily', 'the job runs when asked', 'ledger quokka rows are reconciled'];
  const fields = (body: string) => ({ title: '', headings: '', body });
  const whole = new KeywordIndex();
  texts.forEach((text, id) => whole.add(id, fields(text)));
  const first = new KeywordIndex();
  const second = new KeywordIndex();
  texts.forEach((text, id) => (id < 3 ? first : second).add(id, fields(text)));
  const query = 'when does the quokka ledger job run';
  const collection = sumStatistics([first.statistics(query), second.statistics(query)]);
  const expected = new Map(whole.search(query, 10).map((hit) => [hit.id, hit.score]));
  for (const index of [first, second]) {
    for (const hit of index.search(query, 10, collection)) assert.ok(Math.abs(hit.score - expected.get(hit.id)!) < 1e-9, `document ${hit.id}`);
  }
  // On its own statistics the one-document index sees every term everywhere, and scores low.
  assert.ok(second.search(query, 1)[0]!.score < second.search(query, 1, collection)[0]!.score);
});
