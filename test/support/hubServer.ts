/** A Hugging Face hub stand-in on 127.0.0.1 for `docent model pull` and the extension's Pull Embedding Model. */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export function listFolder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFolder(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

/**
 * Serves a folder the way the hub does: the tree API with LFS metadata for the .onnx file and
 * git blob ids for the rest, /resolve/ with Range support. `mode` injects faults into the model download.
 */
export async function startHub(folder: string, repo: string) {
  const files = new Map(listFolder(folder).map((path) => [path, readFileSync(join(folder, path))]));
  const state = { mode: 'ok' as 'ok' | 'cut' | 'corrupt', ranges: [] as string[] };
  const server = createServer((request, response) => {
    const url = new URL(request.url!, 'http://hub');
    if (url.pathname === `/api/models/${repo}/tree/main`) {
      const tree = [...files].map(([path, data]) =>
        path.endsWith('.onnx')
          ? { type: 'file', path, size: data.length, oid: 'ignored', lfs: { oid: createHash('sha256').update(data).digest('hex'), size: data.length } }
          : { type: 'file', path, size: data.length, oid: createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex') },
      );
      response.setHeader('content-type', 'application/json');
      return response.end(JSON.stringify([{ type: 'directory', path: 'onnx', size: 0, oid: 'x' }, ...tree]));
    }
    const prefix = `/${repo}/resolve/main/`;
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
