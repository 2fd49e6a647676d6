import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runProgress } from '../../../src/core/workspace/indexState.js';

test('run progress: files read count over all folders; the graph step has its own percent', () => {
  assert.deepEqual(runProgress({ filesDone: 50, filesTotal: 200 }, 0, 1), { percent: 25 });
  assert.deepEqual(runProgress({ filesDone: 50, filesTotal: 100 }, 1, 2), { percent: 75 }, 'the second of two folders, half read');
  assert.deepEqual(runProgress({ filesDone: 0, filesTotal: 0 }, 0, 1), { percent: 0 }, 'an empty folder is not a division by zero');
  // Every file is read while the graph builds: without a step of its own this was a long stop at 100%.
  assert.deepEqual(runProgress({ filesDone: 200, filesTotal: 200, graph: { added: 9000, total: 20000 } }, 0, 1), { step: 'graph', percent: 45 });
  assert.deepEqual(runProgress({ filesDone: 200, filesTotal: 200, graph: { added: 0, total: 0 } }, 0, 1), { step: 'graph', percent: 0 });
});
