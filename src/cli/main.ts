/**
 * `docent` command line: a thin shell over src/core. Output contract (stable, used by
 * benchmarks and other tools): see README "CLI". Usage errors and store errors exit 2 with
 * one line on stderr.
 */
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { IndexReport } from '../core/indexer.js';
import { monotonicMs } from '../core/clock.js';
import { StoreError } from '../core/store.js';
import type { EmbedderRuntime, RetrievalHit, ScoreParts } from '../core/types.js';
import type { WorkspaceDependencies, WorkspaceFolder, WorkspaceOptions } from '../core/workspace/options.js';
import { Workspace, type WorkspaceAnswer } from '../core/workspace/workspace.js';
import { escapeControlCharacters, stripTerminalControls, TerminalTextStream } from '../core/terminalText.js';
import { TerminalMarkdownStream } from './terminalMarkdown.js';
import { backendFlags, deviceFlag, deviceIdFlag, integerFlag, modeFlag, parseFlags, UsageError, wantsHelp } from './args.js';
import { commandHelp, isCommandName, topLevelHelp, type CommandName } from './help.js';
import { docentVersion } from './version.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** One-line progress for a terminal (absent when output is piped); '' clears it. */
  progress?: (line: string) => void;
}

export async function runCli(argv: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined) {
      io.stderr(topLevelHelp(docentVersion()));
      return 2;
    }
    if (command === '--version' || command === '-V' || command === 'version') {
      io.stdout(`docent ${docentVersion()}\n`);
      return 0;
    }
    if (command === 'help' || command === '--help' || command === '-h') {
      const [topic] = rest;
      if (topic === undefined) io.stdout(topLevelHelp(docentVersion()));
      else if (isCommandName(topic)) io.stdout(commandHelp(topic));
      else throw new UsageError(`unknown command "${topic}"`);
      return 0;
    }
    if (!isCommandName(command)) throw new UsageError(`unknown command "${command}"`);
    if (wantsHelp(rest)) {
      io.stdout(commandHelp(command));
      return 0;
    }
    return await runCommand(command, rest, io, signal);
  } catch (error) {
    if (error instanceof UsageError || error instanceof StoreError) {
      const hint = error instanceof UsageError ? ` (run "docent ${isCommandName(command) ? `${command} ` : ''}--help")` : '';
      io.stderr(`docent: ${escapeControlCharacters(error.message)}${hint}\n`);
      return 2;
    }
    if ((error as Error).name === 'AbortError') {
      io.stderr('docent: cancelled\n');
      return 130;
    }
    // An explicitly requested GPU that cannot load (the message names what is missing), or a
    // stage that ran out of time on a busy machine: one line, not a stack.
    if ((error as Error).name === 'DeviceUnavailableError' || (error as Error).name === 'StageTimeoutError') {
      io.stderr(`docent: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}

/** Commands load their heavy parts (MCP SDK, generation engine, model download) themselves: a cold `docent query` compiles none of them. */
async function runCommand(command: CommandName, args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  switch (command) {
    case 'index':
      return indexCommand(args, io, signal);
    case 'query':
      return queryCommand(args, io, signal);
    case 'ask':
      return askCommand(args, io, signal);
    case 'info':
      return infoCommand(args, io);
    case 'model':
      return modelCommand(args, io, signal);
    case 'mcp':
      return (await import('./mcpCommand.js')).runMcpCommand(args, io, signal);
    case 'serve':
      return (await import('./serveCommand.js')).runServeCommand(args, { stdout: { write: (text: string) => (io.stdout(text), true) }, stderr: { write: (text: string) => (io.stderr(text), true) } });
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
    // By name: embedderChoice.ts loads only with an embedder, which a keyword-only query never makes.
    if ((error as Error).name === 'EmbedderChoiceError') throw new UsageError((error as Error).message);
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
    verbose: { type: 'boolean' },
    embedder: { type: 'string' },
    device: { type: 'string' },
    'device-id': { type: 'string' },
    include: { type: 'string', multiple: true },
    exclude: { type: 'string', multiple: true },
    changed: { type: 'string', multiple: true },
  });
  if (positionals.length !== 1) throw new UsageError('index takes exactly one folder: docent index <folder> --store <dir>');
  for (const glob of [...(values.include ?? []), ...(values.exclude ?? [])]) {
    if (glob.trim() === '') throw new UsageError('--include and --exclude need a glob, e.g. --include "docs/**" --exclude "**/drafts/**"');
  }
  if (!values.store) throw new UsageError('--store <dir> is required');
  const folder = await existingFolder(positionals[0]!);
  const changed = values.changed?.map((given) => changedPath(given, folder));
  const device = deviceFlag(values.device);
  const deviceId = deviceIdFlag(values['device-id']);
  const progress = io.progress;
  const options: WorkspaceOptions = {
    folders: [storeFolder(values.store, folder)],
    createStores: true,
    // Absent: the store's own model (a new store: the default one).
    embedder: values.embedder,
    device,
    deviceId,
    indexing: { includeGlobs: values.include, exclude: values.exclude },
  };
  const name = options.folders[0]!.name;
  const run = (workspace: Workspace) => (changed ? workspace.indexChanged(name, changed, signal) : workspace.index(undefined, signal));
  const report = await withWorkspace(options, async (workspace) => (await run(workspace))[0]!.report, {
    sink: (event) => {
      if (event.type === 'log' && event.level === 'warn') io.stderr(`docent: ${escapeControlCharacters(event.message)}\n`);
      else if (event.type === 'fileProgress' && progress) {
        const update = event.progress;
        if (update.phase === 'indexing') progress(`indexing ${update.filesDone}/${update.filesTotal} ${escapeControlCharacters(update.currentFile ?? '')}`);
        else progress(update.graph ? `building the vector graph ${update.graph.added}/${update.graph.total}` : update.phase);
      }
    },
  });
  progress?.('');
  io.stdout(values.json ? `${JSON.stringify(report)}\n` : formatIndexReport(report, folder, report.embedderRuntime && (await deviceLine(report.embedderRuntime, values.verbose ?? false))));
  // Files left out by rule (ignore files, excludes, unsupported types) are counted, not listed.
  const skips = report.skipped.filter((skip) => !['ignored', 'excluded', 'unsupported'].includes(skip.reason));
  if (!values.json && skips.length > 0) {
    io.stderr(skips.map((skip) => `skipped ${escapeControlCharacters(skip.path)}: ${skip.reason} (${escapeControlCharacters(skip.detail ?? '')})\n`).join(''));
  }
  return 0;
}

/** A --changed path, resolved from the working directory; it must lie inside the folder being indexed. */
function changedPath(given: string, folder: string): string {
  if (!given.trim()) throw new UsageError('--changed needs a path, e.g. --changed docs/setup.md');
  const resolved = path.resolve(given);
  const inside = path.relative(folder, resolved);
  if (inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
    throw new UsageError(`--changed ${given} is not inside ${folder}: give paths of files in the folder being indexed`);
  }
  return resolved;
}

/** The folder to index, resolved; a missing path or a file is a usage error that says what to give instead. */
async function existingFolder(given: string): Promise<string> {
  if (!given.trim()) throw new UsageError('the folder to index is empty: docent index <folder> --store <dir>');
  const folder = path.resolve(given);
  const stat = await fs.stat(folder).catch(() => undefined);
  if (!stat) throw new UsageError(`no folder at ${folder}: give an existing folder to index`);
  if (!stat.isDirectory()) throw new UsageError(`${folder} is a file, not a folder: give the folder that holds it (e.g. ${path.dirname(folder)})`);
  return folder;
}

/** "CPU" plainly; why faster devices were passed over only when asked (--verbose) — it is not an error. */
async function deviceLine(runtime: EmbedderRuntime, verbose: boolean): Promise<string> {
  // Loaded here: the session code (and its child-process probes) is not needed to search.
  const { describeDevice } = await import('../core/onnx/session.js');
  return describeDevice(verbose ? runtime : { ...runtime, fallbackReasons: [] });
}

/** `device`: the embedder's device line, when it has one. */
function formatIndexReport(report: IndexReport, folder: string, device: string | undefined): string {
  const skipped = Object.entries(report.skippedByReason)
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  return (
    `indexed ${escapeControlCharacters(folder)}\n` +
    `  files indexed   ${report.filesIndexed} (unchanged ${report.filesUnchanged}, deleted ${report.filesDeleted})\n` +
    `  chunks          ${report.chunks} (${report.chunksAdded} new)\n` +
    `  files skipped   ${report.filesSkipped}${skipped ? ` (${skipped})` : ''}\n` +
    `  embedder        ${report.embedder ? `${report.embedder.id} (${report.embedder.dimensions}-d)` : 'none (keyword only)'}\n` +
    (report.embedderRuntime
      ? `  device          ${device}, ${report.embedderRuntime.textsPerSecond.toFixed(0)} chunks/s\n`
      : '') +
    (report.fullWalk ? `  walked          the whole folder: ${escapeControlCharacters(report.fullWalk)}\n` : '') +
    `  seconds         ${report.seconds.toFixed(2)}\n`
  );
}

async function queryCommand(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    store: { type: 'string' },
    json: { type: 'boolean' },
    k: { type: 'string' },
    batch: { type: 'string' },
    mode: { type: 'string' },
    explain: { type: 'boolean' },
    device: { type: 'string' },
    'device-id': { type: 'string' },
  });
  const device = deviceFlag(values.device);
  const deviceId = deviceIdFlag(values['device-id']);
  const mode = modeFlag(values.mode);
  const explain = values.explain ?? false;
  if (!values.store) throw new UsageError('--store <dir> is required');
  const k = integerFlag(values.k, '--k', 1, 1000, 10);
  if (values.batch !== undefined && positionals.length > 0) throw new UsageError('give either a query or --batch <file>, not both');
  if (values.batch === undefined && positionals.length !== 1) throw new UsageError('query takes exactly one quoted query (or --batch <file>)');
  if (values.batch === undefined && !positionals[0]!.trim()) throw new UsageError('the query is empty: give the words to search for, e.g. docent query "rotate signing keys"');
  if (values.batch !== undefined && !values.batch.trim()) throw new UsageError('--batch needs a file name, or - for stdin');

  // No embedder named: query vectors come from the model the store was built with.
  // One query (or a batch, one at a time) needs one embedding worker, started by the first embed.
  return withWorkspace({ folders: [storeFolder(values.store)], device, deviceId, embeddingWorkers: 1 }, async (workspace) => {
    const run = async (text: string): Promise<{ hits: RetrievalHit[]; tookMs: number }> => {
      const started = monotonicMs();
      const hits = await workspace.search(text, { k, signal, mode, explain });
      return { hits, tookMs: round(monotonicMs() - started, 2) };
    };
    if (values.batch !== undefined) {
      const input = createReadStream(values.batch === '-' ? '/dev/stdin' : values.batch, 'utf8');
      const opened = new Promise<void>((resolve, reject) => {
        input.once('open', () => resolve());
        input.once('error', (error) => reject(new UsageError(`cannot read --batch file: ${error.message}`)));
      });
      await opened;
      let first = true;
      // Only a batch reads lines: a single query does not load node:readline.
      const { createInterface } = await import('node:readline');
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        const text = line.trim();
        if (!text) continue;
        const result = await run(text);
        if (values.json) io.stdout(`${JSON.stringify({ query: text, hits: result.hits.map(hitJson), tookMs: result.tookMs })}\n`);
        else io.stdout(`${first ? '' : '\n'}== ${stripTerminalControls(text)}\n${formatHits(result.hits, result.tookMs)}`);
        first = false;
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
    ...(hit.explain ? { explain: roundedParts(hit.explain) } : {}),
    text: chunk.text,
  };
}

function formatHits(hits: RetrievalHit[], tookMs: number): string {
  if (hits.length === 0) return `no passages matched (${tookMs} ms)\n`;
  const blocks = hits.map((hit, i) => {
    const { chunk } = hit;
    const heading = chunk.headingPath.length ? ` — ${escapeControlCharacters(chunk.headingPath.join(' › '))}` : '';
    const excerpt = stripTerminalControls(chunk.text).split('\n').slice(0, 8).map((line) => `    ${line}`).join('\n');
    const parts = hit.explain ? `\n    [${describeParts(hit.explain)}]` : '';
    return `${i + 1}. ${escapeControlCharacters(chunk.path)}:${chunk.startLine}-${chunk.endLine}${heading}  (score ${hit.score.toFixed(4)})${parts}\n${excerpt}`;
  });
  return `${blocks.join('\n\n')}\n\n${hits.length} passages in ${tookMs} ms\n`;
}

function roundedParts(parts: ScoreParts): ScoreParts {
  return Object.fromEntries(Object.entries(parts).map(([name, value]) => [name, round(value as number, 6)])) as unknown as ScoreParts;
}

/** One line of score parts: what each ranking contributed to this hit. */
function describeParts(parts: ScoreParts): string {
  const shown: string[] = [];
  if (parts.passageBm25f !== undefined) shown.push(`passage BM25F ${parts.passageBm25f.toFixed(3)}`);
  if (parts.pageEvidence !== undefined) shown.push(`page evidence ${parts.pageEvidence.toFixed(3)}`);
  if (parts.pageDense !== undefined) shown.push(`page dense ${parts.pageDense >= 0 ? '+' : ''}${parts.pageDense.toFixed(3)}`);
  if (parts.denseCosine !== undefined) shown.push(`dense cosine ${parts.denseCosine.toFixed(3)}`);
  if (parts.keywordRank !== undefined) shown.push(`keyword rank ${parts.keywordRank}`);
  if (parts.vectorRank !== undefined) shown.push(`vector rank ${parts.vectorRank}`);
  shown.push(`fusion ${parts.fused.toFixed(4)}`);
  return shown.join(', ');
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

async function infoCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, { store: { type: 'string' }, json: { type: 'boolean' }, verbose: { type: 'boolean' } });
  if (positionals.length > 0) throw new UsageError('info takes no positional arguments: docent info --store <dir>');
  if (!values.store) throw new UsageError('--store <dir> is required');
  // Describing a store needs no model: its model may even be gone.
  const [store] = await withWorkspace({ folders: [storeFolder(values.store)], embedder: 'none' }, (workspace) => workspace.storeInfo());
  const runtime = store!.lastIndex?.runtime;
  const info = {
    files: store!.files,
    chunks: store!.chunks,
    generation: store!.generation,
    complete: store!.incomplete === undefined,
    ...(store!.incomplete ? { incompleteReason: store!.incomplete } : {}),
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
  const status = store!.incomplete
    ? `INCOMPLETE: ${store!.incomplete}; run "docent index <folder> --store ${values.store}" again to finish it`
    : info.generation === 0
      ? 'empty (never indexed)'
      : 'complete';
  io.stdout(
    `store ${escapeControlCharacters(path.resolve(values.store))} (generation ${info.generation})\n` +
      `  status     ${status}\n` +
      `  files      ${info.files}\n  chunks     ${info.chunks}\n` +
      `  model      ${info.model ? `${info.model.id} (${info.model.dimensions}-d)` : 'none (keyword only)'}\n` +
      `  device     ${runtime ? await deviceLine(runtime, values.verbose ?? false) : 'unknown'}\n` +
      `  embedding  ${info.embeddingChunksPerSecond ?? '?'} chunks/s at last index\n` +
      `  indexed    ${info.lastIndexed ?? 'never'}\n`,
  );
  return 0;
}

async function modelCommand(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'pull') throw new UsageError(action === undefined ? 'model needs an action: docent model pull <owner/name>' : `unknown model action "${action}": docent model pull <owner/name>`);
  const { values, positionals } = parseFlags(rest, { cache: { type: 'string' }, revision: { type: 'string' }, endpoint: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('model pull takes exactly one Hugging Face repo id, e.g. sentence-transformers/all-MiniLM-L6-v2');
  const progress = io.progress;
  const { pullModel, defaultModelCacheDir } = await import('../core/embedding/pullModel.js');
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
  if (positionals.length !== 1) throw new UsageError('ask takes exactly one quoted question: docent ask "<question>" --store <dir>');
  if (!positionals[0]!.trim()) throw new UsageError('the question is empty: give it in quotes, e.g. docent ask "How do I rotate the signing keys?" --store <dir>');
  if (!values.store) throw new UsageError('--store <dir> is required');
  const backend = backendFlags(values.endpoint, values.model);
  const k = integerFlag(values.k, '--k', 1, 1000, 8);
  const options: WorkspaceOptions = {
    folders: [storeFolder(values.store)],
    device: deviceFlag(values.device),
    deviceId: deviceIdFlag(values['device-id']),
    answers: {
      backend,
      limits: { k },
    },
  };
  // A model's reply (or a document it quotes) must not retitle the terminal or plant links.
  const printable = new TerminalTextStream();
  const markdown = new TerminalMarkdownStream();
  const answer = await withWorkspace(options, (workspace) =>
    workspace.ask({ question: positionals[0]!, signal }, (event) => {
      if (!values.json && event.type === 'token') io.stdout(printable.write(markdown.write(event.text)));
    }),
  );
  io.stdout(values.json ? `${JSON.stringify(answerJson(answer))}\n` : printable.write(markdown.end()) + printable.end() + formatSources(answer));
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
    ...(answer.searchedQuery !== undefined ? { searchedQuery: answer.searchedQuery } : {}),
    found: answer.suggestions === undefined,
    ...(answer.suggestions ? { suggestions: answer.suggestions } : {}),
    ...(answer.partialIndex ? { partialIndex: answer.partialIndex } : {}),
    timings: answer.timings,
  };
}

function formatSources(answer: WorkspaceAnswer): string {
  const note = answer.degraded ? `\n(${stripTerminalControls(answer.degradedReason ?? 'degraded answer')})\n` : '';
  if (answer.citations.length === 0) return `${note}\nNo sources.\n`;
  // A retrieval-only answer already labels each passage with its path and lines.
  if (answer.mode === 'retrieval-only') return `\n${note}`;
  const sources = answer.citations.map((citation) => `[${citation.n}] ${escapeControlCharacters(citation.path)}:${citation.startLine}-${citation.endLine}`).join('\n');
  return `\n${note}\nSources:\n${sources}\n`;
}
