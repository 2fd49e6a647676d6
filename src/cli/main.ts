/**
 * `docent` command line: a thin shell over src/core. Output contract (stable, used by
 * benchmarks and other tools): see README "CLI". Usage errors and store errors exit 2 with
 * one line on stderr.
 */
import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { pullModel, defaultModelCacheDir } from '../core/embedding/pullModel.js';
import type { IndexReport } from '../core/indexer.js';
import { describeDevice, DEVICE_CHOICES } from '../core/onnx/session.js';
import { StoreError } from '../core/store.js';
import { escapeControlCharacters } from '../core/terminalText.js';
import type { RetrievalHit } from '../core/types.js';
import { EMBEDDER_CHOICES, EmbedderChoiceError } from '../core/workspace/embedderChoice.js';
import type { WorkspaceDependencies, WorkspaceFolder, WorkspaceOptions } from '../core/workspace/options.js';
import { Workspace, type WorkspaceAnswer } from '../core/workspace/workspace.js';
import { deviceFlag, deviceIdFlag, integerFlag, parseFlags, UsageError } from './args.js';
import { runServeCommand } from './serveCommand.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** One-line progress for a terminal (absent when output is piped); '' clears it. */
  progress?: (line: string) => void;
}

const DEVICE_HELP = DEVICE_CHOICES.join('|');
const EMBEDDER_HELP = EMBEDDER_CHOICES;
const USAGE = `usage:
  docent index <folder> --store <dir> [--include <glob>]... [--exclude <glob>]... [--json] [--embedder ${EMBEDDER_HELP}] [--device ${DEVICE_HELP}] [--device-id N]
  docent query "<text>" --store <dir> [--k 10] [--json] [--device ${DEVICE_HELP}] [--device-id N]
  docent query --batch <file> --store <dir> [--k 10] --json
  docent ask "<question>" --store <dir> [--endpoint URL --model NAME] [--k 8] [--json]   (API key: DOCENT_API_KEY)
  docent info --store <dir> [--json]
  docent model pull <hf-repo-id> [--cache <dir>] [--revision main]
  docent serve --model <dir> [--embedding-model default|<dir>] [--port 8123] [--host 127.0.0.1] [--device ${DEVICE_HELP}] [--device-id N] [--max-batch 16] [--threads N] [--api-key-env NAME]`;

export async function runCli(argv: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'index':
        return await indexCommand(rest, io, signal);
      case 'query':
        return await queryCommand(rest, io, signal);
      case 'ask':
        return await askCommand(rest, io, signal);
      case 'info':
        return await infoCommand(rest, io);
      case 'serve':
        return await runServeCommand(rest, { stdout: { write: (text: string) => (io.stdout(text), true) }, stderr: { write: (text: string) => (io.stderr(text), true) } });
      case 'model':
        return await modelCommand(rest, io, signal);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof StoreError) {
      io.stderr(`docent: ${error.message}${error instanceof UsageError ? ' (run "docent help")' : ''}\n`);
      return 2;
    }
    if ((error as Error).name === 'AbortError') {
      io.stderr('docent: cancelled\n');
      return 130;
    }
    // An explicitly requested GPU that cannot load: the message names what is missing.
    if ((error as Error).name === 'DeviceUnavailableError') {
      io.stderr(`docent: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}

/** One store, searched or indexed from `root`; the folder's name only matters with several. */
function storeFolder(storeDir: string, root?: string): WorkspaceFolder {
  return { name: path.basename(root ?? storeDir), storeDir: path.resolve(storeDir), ...(root ? { root } : {}) };
}

/** Opens a workspace, runs `use` and closes it; an embedder that cannot be made is a usage error. */
async function withWorkspace<T>(options: WorkspaceOptions, use: (workspace: Workspace) => Promise<T>, dependencies?: WorkspaceDependencies): Promise<T> {
  let workspace: Workspace;
  try {
    workspace = await Workspace.open(options, dependencies);
  } catch (error) {
    if (error instanceof EmbedderChoiceError) throw new UsageError(error.message);
    throw error;
  }
  try {
    return await use(workspace);
  } finally {
    await workspace.close();
  }
}

async function indexCommand(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    store: { type: 'string' },
    json: { type: 'boolean' },
    embedder: { type: 'string' },
    device: { type: 'string' },
    'device-id': { type: 'string' },
    include: { type: 'string', multiple: true },
    exclude: { type: 'string', multiple: true },
  });
  if (positionals.length !== 1) throw new UsageError('index takes exactly one folder');
  for (const glob of [...(values.include ?? []), ...(values.exclude ?? [])]) {
    if (glob.trim() === '') throw new UsageError('--include and --exclude need a glob, e.g. --include "docs/**" --exclude "**/drafts/**"');
  }
  if (!values.store) throw new UsageError('--store <dir> is required');
  const folder = path.resolve(positionals[0]!);
  const device = deviceFlag(values.device);
  const progress = io.progress;
  const options: WorkspaceOptions = {
    folders: [storeFolder(values.store, folder)],
    createStores: true,
    embedder: values.embedder ?? 'default',
    device,
    deviceId: deviceIdFlag(values['device-id']),
    indexing: { includeGlobs: values.include, exclude: values.exclude },
  };
  const report = await withWorkspace(options, async (workspace) => (await workspace.index(undefined, signal))[0]!.report, {
    sink: (event) => {
      if (event.type === 'fileProgress' && progress) {
        const update = event.progress;
        progress(update.phase === 'indexing' ? `indexing ${update.filesDone}/${update.filesTotal} ${update.currentFile ?? ''}` : update.phase);
      }
    },
  });
  progress?.('');
  io.stdout(values.json ? `${JSON.stringify(report)}\n` : formatIndexReport(report, folder));
  // Files left out by rule (ignore files, excludes, unsupported types) are counted, not listed.
  const skips = report.skipped.filter((skip) => !['ignored', 'excluded', 'unsupported'].includes(skip.reason));
  if (!values.json && skips.length > 0) {
    io.stderr(skips.map((skip) => `skipped ${escapeControlCharacters(skip.path)}: ${skip.reason} (${escapeControlCharacters(skip.detail ?? '')})\n`).join(''));
  }
  return 0;
}

function formatIndexReport(report: IndexReport, folder: string): string {
  const skipped = Object.entries(report.skippedByReason)
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  return (
    `indexed ${folder}\n` +
    `  files indexed   ${report.filesIndexed} (unchanged ${report.filesUnchanged}, deleted ${report.filesDeleted})\n` +
    `  chunks          ${report.chunks} (${report.chunksAdded} new)\n` +
    `  files skipped   ${report.filesSkipped}${skipped ? ` (${skipped})` : ''}\n` +
    `  embedder        ${report.embedder ? `${report.embedder.id} (${report.embedder.dimensions}-d)` : 'none (keyword only)'}\n` +
    (report.embedderRuntime
      ? `  device          ${describeDevice(report.embedderRuntime)}, ${report.embedderRuntime.textsPerSecond.toFixed(0)} chunks/s\n`
      : '') +
    `  seconds         ${report.seconds.toFixed(2)}\n`
  );
}

async function queryCommand(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    store: { type: 'string' },
    json: { type: 'boolean' },
    k: { type: 'string' },
    batch: { type: 'string' },
    device: { type: 'string' },
    'device-id': { type: 'string' },
  });
  const device = deviceFlag(values.device);
  if (!values.store) throw new UsageError('--store <dir> is required');
  const k = integerFlag(values.k, '--k', 1, 1000, 10);
  if (values.batch !== undefined && positionals.length > 0) throw new UsageError('give either a query or --batch <file>, not both');
  if (values.batch === undefined && positionals.length !== 1) throw new UsageError('query takes exactly one quoted question (or --batch <file>)');
  if (values.batch !== undefined && !values.json) throw new UsageError('--batch needs --json (one JSON object per line)');

  // No embedder named: query vectors come from the model the store was built with.
  return withWorkspace({ folders: [storeFolder(values.store)], device, deviceId: deviceIdFlag(values['device-id']) }, async (workspace) => {
    const run = async (text: string): Promise<{ hits: RetrievalHit[]; tookMs: number }> => {
      const started = performance.now();
      const hits = await workspace.search(text, { k, signal });
      return { hits, tookMs: round(performance.now() - started, 2) };
    };
    if (values.batch !== undefined) {
      const input = createReadStream(values.batch === '-' ? '/dev/stdin' : values.batch, 'utf8');
      const opened = new Promise<void>((resolve, reject) => {
        input.once('open', () => resolve());
        input.once('error', (error) => reject(new UsageError(`cannot read --batch file: ${error.message}`)));
      });
      await opened;
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        const text = line.trim();
        if (!text) continue;
        const result = await run(text);
        io.stdout(`${JSON.stringify({ query: text, hits: result.hits.map(hitJson), tookMs: result.tookMs })}\n`);
      }
      return 0;
    }
    const result = await run(positionals[0]!);
    if (values.json) {
      io.stdout(`${JSON.stringify({ hits: result.hits.map(hitJson), tookMs: result.tookMs })}\n`);
    } else {
      io.stdout(formatHits(result.hits, result.tookMs));
    }
    return 0;
  });
}

function hitJson(hit: RetrievalHit) {
  const { chunk } = hit;
  return {
    path: chunk.path,
    startLine: chunk.startLine,
    endLine: chunk.endLine,
    heading: chunk.headingPath.join(' › '),
    score: round(hit.score, 6),
    confidence: round(hit.confidence ?? 0, 3),
    text: chunk.text,
  };
}

function formatHits(hits: RetrievalHit[], tookMs: number): string {
  if (hits.length === 0) return `no passages matched (${tookMs} ms)\n`;
  const blocks = hits.map((hit, i) => {
    const { chunk } = hit;
    const heading = chunk.headingPath.length ? ` — ${chunk.headingPath.join(' › ')}` : '';
    const excerpt = chunk.text.split('\n').slice(0, 8).map((line) => `    ${line}`).join('\n');
    return `${i + 1}. ${chunk.path}:${chunk.startLine}-${chunk.endLine}${heading}  (score ${hit.score.toFixed(4)})\n${excerpt}`;
  });
  return `${blocks.join('\n\n')}\n\n${hits.length} passages in ${tookMs} ms\n`;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

async function infoCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, { store: { type: 'string' }, json: { type: 'boolean' } });
  if (positionals.length > 0) throw new UsageError('info takes no positional arguments');
  if (!values.store) throw new UsageError('--store <dir> is required');
  // Describing a store needs no model: its model may even be gone.
  const [store] = await withWorkspace({ folders: [storeFolder(values.store)], embedder: 'none' }, (workspace) => workspace.storeInfo());
  const runtime = store!.lastIndex?.runtime;
  const info = {
    files: store!.files,
    chunks: store!.chunks,
    generation: store!.generation,
    model: store!.embedder ? { id: store!.embedder.id, dimensions: store!.embedder.dimensions, spec: store!.embedder.spec ?? null } : null,
    provider: runtime?.provider ?? null,
    device: runtime?.kind ?? null,
    fallbackReasons: runtime?.fallbackReasons ?? [],
    placement: runtime?.placement ?? null,
    embeddingChunksPerSecond: runtime ? round(runtime.textsPerSecond, 1) : null,
    lastIndexed: store!.lastIndex?.finishedAt ?? null,
  };
  if (values.json) {
    io.stdout(`${JSON.stringify(info)}\n`);
    return 0;
  }
  io.stdout(
    `store ${path.resolve(values.store)} (generation ${info.generation})\n` +
      `  files      ${info.files}\n  chunks     ${info.chunks}\n` +
      `  model      ${info.model ? `${info.model.id} (${info.model.dimensions}-d)` : 'none (keyword only)'}\n` +
      `  provider   ${info.provider ?? 'unknown'}${info.fallbackReasons.length ? ` (fell back: ${info.fallbackReasons.join('; ')})` : ''}\n` +
      `  embedding  ${info.embeddingChunksPerSecond ?? '?'} chunks/s at last index\n`,
  );
  return 0;
}

async function modelCommand(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'pull') throw new UsageError('model takes the action "pull" (docent model pull <hf-repo-id>)');
  const { values, positionals } = parseFlags(rest, { cache: { type: 'string' }, revision: { type: 'string' }, endpoint: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('model pull takes exactly one Hugging Face repo id, e.g. sentence-transformers/all-MiniLM-L6-v2');
  const progress = io.progress;
  let folder: string;
  try {
    folder = await pullModel(positionals[0]!, {
      cacheDir: values.cache ?? defaultModelCacheDir(),
      revision: values.revision,
      endpoint: values.endpoint ?? process.env.DOCENT_HF_ENDPOINT,
      signal,
      onProgress: progress
        ? (update) => progress(`${update.file} ${(update.receivedBytes / 2 ** 20).toFixed(1)}/${(update.totalBytes / 2 ** 20).toFixed(1)} MiB`)
        : undefined,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    io.stderr(`docent: model pull failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    progress?.('');
  }
  io.stdout(`${folder}\n`);
  return 0;
}

async function askCommand(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    store: { type: 'string' },
    endpoint: { type: 'string' },
    model: { type: 'string' },
    json: { type: 'boolean' },
    k: { type: 'string' },
    device: { type: 'string' },
    'device-id': { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('ask takes exactly one quoted question');
  if (!values.store) throw new UsageError('--store <dir> is required');
  if ((values.endpoint === undefined) !== (values.model === undefined)) throw new UsageError('--endpoint and --model go together');
  if (values.endpoint !== undefined && !/^https?:\/\//.test(values.endpoint)) throw new UsageError(`--endpoint must be an http(s) URL, got "${values.endpoint}"`);
  const k = integerFlag(values.k, '--k', 1, 1000, 8);
  const options: WorkspaceOptions = {
    folders: [storeFolder(values.store)],
    device: deviceFlag(values.device),
    deviceId: deviceIdFlag(values['device-id']),
    answers: {
      // The key never travels on the command line, where other users could read it in `ps`.
      backend: values.endpoint ? { baseURL: values.endpoint, model: values.model!, apiKey: process.env.DOCENT_API_KEY } : null,
      limits: { k },
    },
  };
  const answer = await withWorkspace(options, (workspace) =>
    workspace.ask({ question: positionals[0]!, signal }, (event) => {
      if (!values.json && event.type === 'token') io.stdout(event.text);
    }),
  );
  io.stdout(values.json ? `${JSON.stringify(answerJson(answer))}\n` : formatSources(answer));
  return 0;
}

function answerJson(answer: WorkspaceAnswer) {
  return {
    answer: answer.answer,
    citations: answer.citations.map(({ n, path: file, startLine, endLine }) => ({ n, path: file, startLine, endLine })),
    cached: answer.cached,
    degraded: answer.degraded,
    ...(answer.degradedReason ? { degradedReason: answer.degradedReason } : {}),
    mode: answer.mode,
    found: answer.suggestions === undefined,
    ...(answer.suggestions ? { suggestions: answer.suggestions } : {}),
    timings: answer.timings,
  };
}

function formatSources(answer: WorkspaceAnswer): string {
  const note = answer.degraded ? `\n(${answer.degradedReason ?? 'degraded answer'})\n` : '';
  if (answer.citations.length === 0) return `${note}\nNo sources.\n`;
  const sources = answer.citations.map((citation) => `[${citation.n}] ${citation.path}:${citation.startLine}-${citation.endLine}`).join('\n');
  return `\n${note}\nSources:\n${sources}\n`;
}
