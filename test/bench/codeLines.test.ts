import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { measureCodeLines } from '../../scripts/codeLineAccuracy.js';

const ROOT = path.resolve(__dirname, '..', '..');

/** Measured on the eval sets (BENCHMARKS.md, answer4): a regression of a few points fails. */
const FLOORS: Record<string, { precision: number; recall: number }> = {
  'rustbook-docs': { precision: 0.94, recall: 0.78 },
  'nodejs-docs': { precision: 0.97, recall: 0.96 },
  'python-docs': { precision: 0.95, recall: 0.82 },
  'postgres-docs': { precision: 0.96, recall: 0.81 },
};

for (const [set, floor] of Object.entries(FLOORS)) {
  const dir = path.join(ROOT, '.cache', set);
  test(`extractive answers tell code lines from prose on ${set} (fences and <pre> as ground truth)`, { skip: !existsSync(dir) && `${dir} is not downloaded` }, async () => {
    const { precision, recall, misses } = await measureCodeLines(dir);
    const sample = misses.slice(0, 8).join('\n');
    assert.ok(precision >= floor.precision, `precision ${precision.toFixed(3)} < ${floor.precision}:\n${sample}`);
    assert.ok(recall >= floor.recall, `recall ${recall.toFixed(3)} < ${floor.recall}:\n${sample}`);
  });
}
