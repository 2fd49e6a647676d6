import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { EVAL_SET_NAMES, WARM_UP_QUESTIONS } from '../../bench/retrieval.js';

const SHARED_EVAL = path.resolve(__dirname, '..', '..', '..', 'shared', 'eval');

test('bench:retrieval warms up on no eval question (nor one differing only in case or spacing)', { skip: !existsSync(SHARED_EVAL) && `${SHARED_EVAL} not found` }, () => {
  const normalise = (question: string) => question.toLowerCase().replace(/\s+/g, ' ').trim();
  const asked = new Set(EVAL_SET_NAMES.flatMap((name) => (JSON.parse(readFileSync(path.join(SHARED_EVAL, `${name}-questions.json`), 'utf8')) as { q: string }[]).map(({ q }) => normalise(q))));
  assert.ok(asked.size > 100, `${asked.size} eval questions read`);
  for (const question of WARM_UP_QUESTIONS) assert.ok(!asked.has(normalise(question)), `"${question}" is an eval question`);
});
