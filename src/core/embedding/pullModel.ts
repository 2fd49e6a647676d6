/**
 * Downloads a sentence-transformers ONNX export from the Hugging Face hub into the user's model
 * cache: file list from the tree API, files from /<repo>/resolve/<rev>/<file>, resumed with HTTP
 * Range from a .part file, and accepted only when size and hash match the hub's metadata
 * (sha256 for LFS files, the git blob sha1 otherwise).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync, promises as fsp } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface PullOptions {
  cacheDir?: string;
  endpoint?: string;
  revision?: string;
  signal?: AbortSignal;
  onProgress?: (progress: { file: string; receivedBytes: number; totalBytes: number }) => void;
  /** Which ONNX export to fetch; default onnx/model.onnx, else model.onnx. */
  onnxFile?: string;
}

interface TreeEntry {
  type: string;
  path: string;
  size: number;
  oid: string;
  lfs?: { oid: string; size: number };
}

/** ~/.cache/docent/models (XDG_CACHE_HOME, LOCALAPPDATA on Windows); DOCENT_MODEL_CACHE overrides. */
export function defaultModelCacheDir(): string {
  if (process.env.DOCENT_MODEL_CACHE) return process.env.DOCENT_MODEL_CACHE;
  const base = process.platform === 'win32' ? (process.env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local')) : (process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'));
  return join(base, 'docent', 'models');
}

/** Returns the local folder, ready for readEmbeddingModelFolder. */
export async function pullModel(repoId: string, options: PullOptions = {}): Promise<string> {
  if (!/^[\w.-]+\/[\w.-]+$/.test(repoId)) throw new Error(`"${repoId}" is not a Hugging Face repository id (owner/name)`);
  const endpoint = (options.endpoint ?? 'https://huggingface.co').replace(/\/+$/, '');
  const revision = options.revision ?? 'main';
  const target = join(options.cacheDir ?? defaultModelCacheDir(), repoId.replace('/', '--'), revision);
  const files = selectFiles(await listFiles(endpoint, repoId, revision, options.signal), options.onnxFile, repoId);
  for (const entry of files) {
    await downloadFile(`${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${entry.path}`, join(target, entry.path), entry, options);
  }
  return target;
}

async function listFiles(endpoint: string, repoId: string, revision: string, signal?: AbortSignal): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  let url: string | undefined = `${endpoint}/api/models/${repoId}/tree/${encodeURIComponent(revision)}?recursive=true`;
  while (url) {
    const response: Response = await fetch(url, { signal });
    if (!response.ok) throw new Error(`cannot list ${repoId}@${revision}: ${response.status} ${response.statusText} from ${url}`);
    entries.push(...((await response.json()) as TreeEntry[]));
    // The tree API pages with a Link: <…>; rel="next" header.
    url = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
  }
  return entries.filter((entry) => entry.type === 'file');
}

/** Top-level JSON configs, the pooling config and one ONNX export (with its external data). */
function selectFiles(entries: TreeEntry[], onnxFile: string | undefined, repoId: string): TreeEntry[] {
  const paths = new Set(entries.map((entry) => entry.path));
  const model = onnxFile ?? ['onnx/model.onnx', 'model.onnx'].find((path) => paths.has(path));
  if (!model || !paths.has(model)) throw new Error(`${repoId} has no ${onnxFile ?? 'onnx/model.onnx or model.onnx'}: it is not an ONNX export`);
  if (!paths.has('tokenizer.json')) throw new Error(`${repoId} has no tokenizer.json`);
  return entries.filter(
    (entry) =>
      (!entry.path.includes('/') && entry.path.endsWith('.json')) ||
      entry.path === '1_Pooling/config.json' ||
      entry.path === model ||
      entry.path === `${model}_data` ||
      entry.path === `${model}.data`,
  );
}

async function downloadFile(url: string, destination: string, entry: TreeEntry, options: PullOptions): Promise<void> {
  const size = entry.lfs?.size ?? entry.size;
  if (existsSync(destination) && statSync(destination).size === size && (await fileHash(destination, entry)) === expectedHash(entry)) return;
  mkdirSync(dirname(destination), { recursive: true });
  const part = `${destination}.part`;
  let offset = existsSync(part) ? statSync(part).size : 0;
  if (offset > size) {
    rmSync(part);
    offset = 0;
  }
  if (offset < size) {
    const response = await fetch(url, { headers: offset > 0 ? { range: `bytes=${offset}-` } : {}, signal: options.signal, redirect: 'follow' });
    if (!response.ok || !response.body) throw new Error(`download of ${entry.path} failed: ${response.status} ${response.statusText} from ${url}`);
    const resumed = response.status === 206;
    let received = resumed ? offset : 0;
    // Each chunk is written before the next is read, so an interrupted transfer leaves all it got in .part.
    const file = await fsp.open(part, resumed ? 'a' : 'w');
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        await file.write(chunk);
        received += chunk.length;
        options.onProgress?.({ file: entry.path, receivedBytes: received, totalBytes: size });
      }
    } finally {
      await file.close();
    }
  }
  const actualSize = statSync(part).size;
  const actualHash = await fileHash(part, entry);
  if (actualSize !== size || actualHash !== expectedHash(entry)) {
    rmSync(part);
    throw new Error(`${entry.path} failed verification (got ${actualSize} bytes, hash ${actualHash}; expected ${size} bytes, hash ${expectedHash(entry)}); the partial file was removed, pull again`);
  }
  renameSync(part, destination);
}

function expectedHash(entry: TreeEntry): string {
  return entry.lfs?.oid ?? entry.oid;
}

/** sha256 for LFS files; git's blob sha1 ("blob <size>\0" + content) for the others. */
async function fileHash(path: string, entry: TreeEntry): Promise<string> {
  const hash = entry.lfs ? createHash('sha256') : createHash('sha1').update(`blob ${statSync(path).size}\0`);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
