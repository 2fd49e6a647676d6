/**
 * scripts/gpu-check.sh in its dry run, as CI runs it: the CPU rows are measured, every GPU
 * provider of the platform has a row, and one that does not load says why.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gpuProvidersFor } from '../../src/core/onnx/session.js';

const ROOT = join(__dirname, '..', '..');

test('gpu-check.sh --dry-run prints one table: CPU rows measured, GPU rows measured or skipped with the reason', () => {
  const run = spawnSync('bash', [join(ROOT, 'scripts', 'gpu-check.sh'), '--dry-run'], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  assert.equal(run.status, 0, run.stderr.slice(-2000));
  const lines = run.stdout.split('\n');
  assert.match(lines[0]!, /^check\s+\| device\s+\| result\s+\| detail/);
  const rows = lines.slice(2).filter((line) => line.includes(' | ')).map((line) => line.split(' | ').map((cell) => cell.trim()));
  const find = (check: RegExp, device: string) => rows.find(([c, d]) => check.test(c!) && d === device);
  assert.equal(find(/^provider loads$/, 'cpu')?.[2], 'yes');
  assert.match(find(/^provider loads$/, 'cpu')![3]!, /CPUExecutionProvider \d+/, 'placement from onnxruntime\'s log');
  for (const batch of [1, 8]) assert.match(find(new RegExp(`^decode step, batch ${batch}, context 256$`), 'cpu')![2]!, /^\d+\.\d+ ms$/);
  assert.equal(find(/^batched == solo \(GroupQueryAttention\)$/, 'cpu')?.[2], 'equal');
  assert.equal(find(/^batched == solo \(plain attention\)$/, 'cpu')?.[2], 'equal');
  assert.match(find(/^embedding, batch 128$/, 'cpu')![2]!, /^\d+ texts\/s$/);
  assert.ok(rows.some(([check]) => check!.startsWith('token choice at 151,936 ids')));
  for (const provider of gpuProvidersFor()) {
    const loads = find(/^provider loads$/, provider);
    assert.ok(loads, `a row for ${provider}`);
    if (loads[2] === 'no') assert.ok(loads[3]!.length > 10, `${provider} says why it does not load`);
    assert.equal(find(/^decode, batched == solo, embedding$/, provider)?.[2], 'skipped', 'a dry run measures no GPU rows');
  }
  const json = JSON.parse(readFileSync(join(ROOT, 'bench', 'results', 'gpu-check.json'), 'utf8'));
  assert.equal(json.dryRun, true);
  assert.equal(json.rows.length, rows.length);
});
