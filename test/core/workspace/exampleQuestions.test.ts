import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exampleQuestions } from '../../../src/core/workspace/exampleQuestions.js';

const chunk = (path: string, title: string, ...headingPath: string[]) => ({ path, title, headingPath: [title, ...headingPath] });

test('FAQ headings that are questions come first, then the titles of the pages with the most passages', () => {
  const chunks = [
    chunk('faq.md', 'Frequently asked questions', 'Operations', 'Where is the on-call schedule?'),
    chunk('faq.md', 'Frequently asked questions', 'Access', 'How do I get production access?'),
    chunk('faq.md', 'Frequently asked questions', 'Access', 'How do I get production access?'),
    chunk('guides/deploying.md', 'Deploying Lumen', 'Production'),
    chunk('guides/deploying.md', 'Deploying Lumen', 'Canary'),
    chunk('guides/deploying.md', 'Deploying Lumen', 'Rollback'),
    chunk('runbooks/keys.md', 'Runbook: rotating API signing keys', 'When to rotate'),
    chunk('runbooks/keys.md', 'Runbook: rotating API signing keys', 'Steps'),
  ];
  assert.deepEqual(exampleQuestions(chunks), ['How do I get production access?', 'Where is the on-call schedule?', 'What does “Deploying Lumen” cover?']);
  assert.deepEqual(exampleQuestions(chunks.filter((c) => c.path !== 'faq.md')), ['What does “Deploying Lumen” cover?', 'What does “Runbook: rotating API signing keys” cover?']);
  assert.deepEqual(exampleQuestions([]), []);
});
