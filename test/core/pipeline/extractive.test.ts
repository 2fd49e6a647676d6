import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseExtractivePassages, extractiveBody } from '../../../src/core/pipeline/citations.js';
import type { Citation } from '../../../src/core/pipeline/types.js';

const citation = (n: number, path: string, text: string): Citation => ({ n, path, startLine: 1, endLine: 9, text });

test('extractive: the answering sentence comes first, code stays fenced, lines are not flattened or cut mid-word', () => {
  const text = [
    'Files are objects with many methods.',
    'For reading lines from a file, you can loop over the file object. This is memory efficient and fast.',
    'for line in f:',
    '    print(line, end="")',
    'Other text follows here.',
  ].join('\n');
  const body = extractiveBody('How do I read lines from a file?', [citation(1, 'tutorial/inputoutput.html', text)]);
  assert.match(body, /^\[1\] tutorial\/inputoutput\.html:1-9\n\n> For reading lines from a file, you can loop over the file object\./);
  assert.match(body, /```\nfor line in f:\n {4}print\(line, end=""\)\n```/);
  assert.match(body, /Files are objects with many methods\. {2}\nFor reading lines/, 'separate lines stay separate');
  const long = `${'word '.repeat(400)}answer here.`;
  const cut = extractiveBody('answer', [citation(2, 'a.md', long)]);
  assert.ok(!/\bwor…/.test(cut) && !/\bwo…/.test(cut), 'no mid-word cut');
  assert.ok(cut.length < 1200);
});

test('extractive: several pages before a second slice of one page; passages below the floor are left out', () => {
  const sources = [citation(1, 'a.md', 'x'), citation(2, 'a.md', 'y'), citation(3, 'a.md', 'z'), citation(4, 'b.md', 'w'), citation(5, 'c.md', 'v')];
  assert.deepEqual(chooseExtractivePassages(sources, [0.9, 0.8, 0.8, 0.5, 0.4], 3, 0.13).map((s) => s.n), [1, 4, 5]);
  // Only one page passes the floor: it clearly answers, so its slices fill the answer.
  assert.deepEqual(chooseExtractivePassages(sources, [0.9, 0.8, 0.8, 0.05, 0.01], 3, 0.13).map((s) => s.n), [1, 2, 3]);
  assert.deepEqual(chooseExtractivePassages(sources, [0.9, 0.8, 0.8, 0.5, 0.4], 1, 0.13).map((s) => s.n), [1], 'the passages setting is honoured');
});
