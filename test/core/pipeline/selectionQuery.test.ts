import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectionQuery } from '../../../src/core/pipeline/selectionQuery.js';

test('a code selection searches with its symbol, identifiers and their words, not language keywords', () => {
  const query = selectionQuery({
    languageId: 'python',
    symbol: 'split_command',
    text: 'def split_command(line):\n    return shlex.split(line, posix=True)\n',
  });
  const words = query.split(' ');
  assert.equal(words[0], 'split_command');
  for (const expected of ['split', 'command', 'shlex', 'line', 'posix']) assert.ok(words.includes(expected), `${expected} in ${query}`);
  for (const keyword of ['def', 'return', 'True']) assert.ok(!words.includes(keyword), `${keyword} not in ${query}`);
  assert.ok(!/python|Explain/.test(query));
});

test('camelCase identifiers are split into words', () => {
  const words = selectionQuery({ languageId: 'typescript', text: 'const server = new HTTPServer(); server.listenOnce();' }).split(' ');
  for (const expected of ['HTTPServer', 'http', 'server', 'listenOnce', 'listen', 'once']) assert.ok(words.includes(expected), expected);
});

test('a doc paragraph searches with its own words, identifiers unsplit', () => {
  const query = selectionQuery({ languageId: 'markdown', text: 'The cache is flushed when the `max_age` of an entry has passed.' });
  assert.equal(query, 'cache flushed when max_age entry has passed');
});

test('the query is bounded and has no repeats', () => {
  const text = Array.from({ length: 100 }, (_, i) => `word${String.fromCharCode(97 + (i % 26))}${i}`).join(' ') + ' cache Cache';
  const words = selectionQuery({ languageId: 'plaintext', text }).split(' ');
  assert.equal(words.length, 24);
  assert.equal(new Set(words.map((w) => w.toLowerCase())).size, words.length);
});
