import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readModelFolder } from '../../src/core/embedding/modelSpec.js';
import { pullModel } from '../../src/core/embedding/pullModel.js';
import { writeBertModelFolder } from '../support/bertModel.js';

const REPO = 'docent-test/tiny-bert';

function listFolder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFolder(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

/**
 * Serves a folder the way the hub does: the tree API with LFS metadata for the .onnx file and
 * git blob ids for the rest, /resolve/ with Range support. `mode` injects faults into the model download.
 */
async function startHub(folder: string) {
  const files = new Map(listFolder(folder).map((path) => [path, readFileSync(join(folder, path))]));
  const state = { mode: 'ok' as 'ok' | 'cut' | 'corrupt', ranges: [] as string[] };
  const server = createServer((request, response) => {
    const url = new URL(request.url!, 'http://hub');
    if (url.pathname === `/api/models/${REPO}/tree/main`) {
      const tree = [...files].map(([path, data]) =>
        path.endsWith('.onnx')
          ? { type: 'file', path, size: data.length, oid: 'ignored', lfs: { oid: createHash('sha256').update(data).digest('hex'), size: data.length } }
          : { type: 'file', path, size: data.length, oid: createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex') },
      );
      response.setHeader('content-type', 'application/json');
      return response.end(JSON.stringify([{ type: 'directory', path: 'onnx', size: 0, oid: 'x' }, ...tree]));
    }
    const prefix = `/${REPO}/resolve/main/`;
    const data = url.pathname.startsWith(prefix) ? files.get(url.pathname.slice(prefix.length)) : undefined;
    if (!data) {
      response.statusCode = 404;
      return response.end('not found');
    }
    const isModel = url.pathname.endsWith('.onnx');
    if (isModel && request.headers.range) state.ranges.push(request.headers.range);
    const start = isModel && request.headers.range ? Number(/bytes=(\d+)-/.exec(request.headers.range)![1]) : 0;
    if (isModel && state.mode === 'cut') {
      // Send the headers and half the body, then drop the connection.
      response.writeHead(200, { 'content-length': data.length });
      response.write(data.subarray(0, Math.floor(data.length / 2)), () => response.destroy());
      return;
    }
    const body = isModel && state.mode === 'corrupt' ? Buffer.from(data).fill(7, 100, 200) : data;
    response.writeHead(start > 0 ? 206 : 200, { 'content-length': body.length - start });
    response.end(body.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, state, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('pullModel: downloads a hub-shaped repo, resumes an interrupted download with Range, rejects a corrupted file', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'docent-pull-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const source = writeBertModelFolder(join(work, 'source'));
  const hub = await startHub(source);
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
  assert.equal(readModelFolder(folder).dimensions, 32);

  rmSync(modelPath);
  hub.state.mode = 'corrupt';
  await assert.rejects(pullModel(REPO, { cacheDir, endpoint: hub.endpoint }), /onnx\/model\.onnx failed verification .*the partial file was removed/);
  assert.equal(existsSync(modelPath), false);
  assert.equal(existsSync(`${modelPath}.part`), false);

  await assert.rejects(pullModel('not a repo'), /not a Hugging Face repository id/);
});
