import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { collectGarbage } from '../../src/core/collectGarbage.js';

test('collectGarbage frees what nothing references any more, ArrayBuffers included', async () => {
  let kept: Uint8Array | undefined = new Uint8Array(64 * 1024 * 1024).fill(1);
  const held = new WeakRef(kept);
  const before = process.memoryUsage().arrayBuffers;
  kept = undefined;
  // A WeakRef's target lives to the end of the job that made it.
  await nextTurn();
  collectGarbage();
  await nextTurn();
  assert.equal(held.deref(), undefined, 'the array was collected');
  const freed = before - process.memoryUsage().arrayBuffers;
  assert.ok(freed >= 60 * 1024 * 1024, `${(freed / 2 ** 20).toFixed(1)} MiB of ArrayBuffers freed`);
});
