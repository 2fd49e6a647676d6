import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readEmbeddingModelFolder } from '../../../src/core/embedding/modelSpec.js';
import { pullModel } from '../../../src/core/embedding/pullModel.js';
import { writeBertModelFolder } from '../../support/bertModel.js';
import { listFolder, startHub } from '../../support/hubServer.js';

const REPO = 'docent-test/tiny-bert';

test('pullModel: downloads a hub-shaped repo, resumes an interrupted download with Range, rejects a corrupted file', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'docent-pull-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const source = writeBertModelFolder(join(work, 'source'));
  const hub = await startHub(source, REPO);
  t.after(() => hub.server.close());
  const cacheDir = join(work, 'cache');
  const modelPath = join(cacheDir, 'docent-test--tiny-bert', 'main', 'onnx', 'model.onnx');
  const expectedModel = readFileSync(join(source, 'onnx', 'model.onnx'));

  hub.state.mode = 'cut';
  await assert.rejects(pullModel(REPO, { cacheDir, endpoint: hub.endpoint }));
  const partial = statSync(`${modelPath}.part`).size;
  assert.ok(partial > 0 && partial < expectedModel.length, `kept ${partial} bytes of ${expectedModel.length}`);

  hub.state.mode = 'ok';
  const progress: number[] = [];
  const folder = await pullModel(REPO, { cacheDir, endpoint: hub.endpoint, onProgress: (p) => p.file.endsWith('.onnx') && progress.push(p.receivedBytes) });
  assert.deepEqual(hub.state.ranges, [`bytes=${partial}-`], 'resumed from the partial file');
  assert.ok(progress[0]! > partial && progress.at(-1) === expectedModel.length);
  assert.deepEqual(readFileSync(modelPath), expectedModel);
  assert.equal(existsSync(`${modelPath}.part`), false);
  assert.deepEqual(listFolder(folder).sort(), listFolder(source).sort());
  assert.equal(readEmbeddingModelFolder(folder).dimensions, 32);

  rmSync(modelPath);
  hub.state.mode = 'corrupt';
  await assert.rejects(pullModel(REPO, { cacheDir, endpoint: hub.endpoint }), /onnx\/model\.onnx failed verification .*the partial file was removed/);
  assert.equal(existsSync(modelPath), false);
  assert.equal(existsSync(`${modelPath}.part`), false);

  await assert.rejects(pullModel('not a repo'), /not a Hugging Face repository id/);
});
