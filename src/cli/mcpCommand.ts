/**
 * `docent mcp`: serves a store's docs to MCP clients (Claude Code, Cursor, Copilot agent mode)
 * over stdio, or over Streamable HTTP on 127.0.0.1 with `--http`. With `--folder` the folder is
 * indexed first and re-indexed as its files change. stdout belongs to the protocol in stdio
 * mode, so everything else goes to stderr.
 */
import { watch, type FSWatcher } from 'node:fs';
import * as path from 'node:path';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { docentVersion } from './version.js';
import type { WorkspaceOptions } from '../core/workspace/options.js';
import { Workspace } from '../core/workspace/workspace.js';
import { EmbedderChoiceError } from '../core/workspace/embedderChoice.js';
import { backendFlags, deviceFlag, deviceIdFlag, integerFlag, parseFlags, UsageError } from './args.js';
import { createDocsMcpServer, startMcpHttpServer } from './mcpServer.js';

export interface McpIo {
  stderr: (text: string) => void;
}

/** Changes are gathered this long before a re-index, so saving many files makes one run. */
const REINDEX_DELAY_MS = 300;

/** Runs until `signal` aborts (SIGINT) or, over stdio, the client closes the connection. */
export async function runMcpCommand(args: string[], io: McpIo, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    store: { type: 'string' },
    folder: { type: 'string' },
    http: { type: 'boolean' },
    port: { type: 'string' },
    'token-env': { type: 'string' },
    endpoint: { type: 'string' },
    model: { type: 'string' },
    embedder: { type: 'string' },
    k: { type: 'string' },
    device: { type: 'string' },
    'device-id': { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError('mcp takes no positional arguments (the folder is --folder <docs>)');
  if (!values.store) throw new UsageError('--store <dir> is required');
  if (!values.http && (values.port !== undefined || values['token-env'] !== undefined)) throw new UsageError('--port and --token-env go with --http');
  const backend = backendFlags(values.endpoint, values.model);
  const port = integerFlag(values.port, '--port', 0, 65535, 8124);
  const tokenEnv = values['token-env'];
  const token = tokenEnv === undefined ? undefined : process.env[tokenEnv];
  if (tokenEnv !== undefined && !token) throw new UsageError(`--token-env ${tokenEnv}: that environment variable is empty or unset`);
  const storeDir = path.resolve(values.store);
  const root = values.folder === undefined ? undefined : path.resolve(values.folder);
  const folderName = path.basename(root ?? storeDir);
  if (!root && values.embedder !== undefined) throw new UsageError('--embedder goes with --folder (searching a store uses the model it was built with)');
  const log = (line: string) => io.stderr(`docent mcp: ${line}\n`);

  const options: WorkspaceOptions = {
    folders: [{ name: folderName, storeDir, ...(root ? { root } : {}) }],
    createStores: !!root,
    // Absent: an existing store keeps the model its vectors came from, a new one gets the default (Workspace).
    embedder: values.embedder,
    device: deviceFlag(values.device),
    deviceId: deviceIdFlag(values['device-id']),
    answers: {
      backend,
      limits: { k: integerFlag(values.k, '--k', 1, 50, 8) },
    },
  };
  let workspace: Workspace;
  try {
    workspace = await Workspace.open(options, {
      sink: (event) => {
        if (event.type === 'log' && event.level !== 'info') log(event.message);
        else if (event.type === 'indexState' && (event.state.state === 'ready' || event.state.state === 'error')) {
          log(event.state.state === 'ready' ? `index ready: ${event.state.files} files, ${event.state.chunks} passages` : `indexing failed: ${event.state.message ?? ''}`);
        }
      },
    });
  } catch (error) {
    if (error instanceof EmbedderChoiceError) throw new UsageError(error.message);
    throw error;
  }
  let watcher: FSWatcher | undefined;
  try {
    if (root) {
      await workspace.index(undefined, signal);
      const reindexFailed = (error: Error) => error.name === 'AbortError' || log(`re-index failed: ${error.message}`);
      watcher = watchFolder(root, storeDir, (paths) =>
        void (paths ? workspace.indexChanged(folderName, paths) : workspace.index()).catch(reindexFailed),
      );
    }
    const stopped = new Promise<void>((resolve) => {
      if (signal?.aborted) resolve();
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    if (values.http) {
      const server = await startMcpHttpServer(workspace, docentVersion(), { port, token, log });
      log(`serving ${server.url}${token ? ' (bearer token required)' : ''}`);
      await stopped;
      await server.close();
    } else {
      const server = createDocsMcpServer(workspace, docentVersion());
      const closed = new Promise<void>((resolve) => (server.server.onclose = resolve));
      await server.connect(new StdioServerTransport());
      // The stdio transport does not notice stdin's end by itself.
      process.stdin.once('end', () => void server.close());
      await Promise.race([stopped, closed]);
      await server.close();
    }
    return 0;
  } finally {
    watcher?.close();
    await workspace.close();
  }
}

/**
 * Calls `changed` (debounced) with the paths (relative to `root`) that changed under it, ignoring
 * the store's own writes, so only those are re-indexed; with undefined when the platform did not
 * name a file, and the whole folder is then walked.
 */
function watchFolder(root: string, storeDir: string, changed: (paths: string[] | undefined) => void): FSWatcher {
  let timer: NodeJS.Timeout | undefined;
  let paths: Set<string> | undefined = new Set();
  const storeInside = path.relative(root, storeDir);
  const ownWrite = (file: string) => !storeInside.startsWith('..') && !path.isAbsolute(storeInside) && (file === storeInside || file.startsWith(`${storeInside}${path.sep}`));
  return watch(root, { recursive: true }, (_event, file) => {
    if (file && ownWrite(file)) return;
    if (file) paths?.add(file);
    else paths = undefined;
    clearTimeout(timer);
    timer = setTimeout(() => {
      const batch = paths ? [...paths] : undefined;
      paths = new Set();
      changed(batch);
    }, REINDEX_DELAY_MS);
  });
}
