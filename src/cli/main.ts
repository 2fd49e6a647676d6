/**
 * `docent` command line: a thin shell over src/core. Output contract (stable, used by
 * benchmarks and other tools): see README "CLI". Usage errors and store errors exit 2 with
 * one line on stderr.
 */
import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { indexFolder, type IndexReport } from '../core/indexer.js';
import { HybridRetriever } from '../core/search/hybrid.js';
import { DocStore, StoreError } from '../core/store.js';
import type { RetrievalHit } from '../core/types.js';
import { createEmbedder, EMBEDDER_CHOICES } from './embedderChoice.js';
import { UsageError } from './usageError.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const USAGE = `usage:
  docent index <folder> --store <dir> [--json] [--embedder ${EMBEDDER_CHOICES.join('|')}]
  docent query "<text>" --store <dir> [--k 10] [--json]
  docent query --batch <file> --store <dir> [--k 10] --json`;



export async function runCli(argv: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'index':
        return await indexCommand(rest, io, signal);
      case 'query':
        return await queryCommand(rest, io, signal);
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
    throw error;
  }
}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function positiveInteger(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 1000) throw new UsageError(`--${name} must be a whole number from 1 to 1000, got "${value}"`);
  return parsed;
}

async function indexCommand(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parse(args, {
    store: { type: 'string' },
    json: { type: 'boolean' },
    embedder: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('index takes exactly one folder');
  if (!values.store) throw new UsageError('--store <dir> is required');
  const folder = path.resolve(positionals[0]!);
  const embedder = createEmbedder(values.embedder);
  const store = await DocStore.open(path.resolve(values.store), { create: true });
  const skips: string[] = [];
  try {
    const report = await indexFolder(folder, store, {
      embedder,
      signal,
      onSkip: (file, reason, detail) => skips.push(`${file}: ${reason} (${detail})`),
    });
    io.stdout(values.json ? `${JSON.stringify(report)}\n` : formatIndexReport(report, folder));
    if (!values.json && skips.length > 0) io.stderr(skips.map((line) => `skipped ${line}\n`).join(''));
    return 0;
  } finally {
    await embedder?.dispose();
  }
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
    `  seconds         ${report.seconds.toFixed(2)}\n`
  );
}

async function queryCommand(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parse(args, {
    store: { type: 'string' },
    json: { type: 'boolean' },
    k: { type: 'string' },
    batch: { type: 'string' },
  });
  if (!values.store) throw new UsageError('--store <dir> is required');
  const k = positiveInteger(values.k, 'k', 10);
  if (values.batch !== undefined && positionals.length > 0) throw new UsageError('give either a query or --batch <file>, not both');
  if (values.batch === undefined && positionals.length !== 1) throw new UsageError('query takes exactly one quoted question (or --batch <file>)');
  if (values.batch !== undefined && !values.json) throw new UsageError('--batch needs --json (one JSON object per line)');

  const store = await DocStore.open(path.resolve(values.store));
  const embedder = store.embedder ? createEmbedder(store.embedder.id) : undefined;
  try {
    const retriever = new HybridRetriever(store, embedder);
    const run = async (text: string): Promise<{ hits: RetrievalHit[]; tookMs: number }> => {
      const started = performance.now();
      const hits = await retriever.search(text, { k, signal });
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
  } finally {
    await embedder?.dispose();
  }
}

function hitJson(hit: RetrievalHit) {
  const { chunk } = hit;
  return {
    path: chunk.path,
    startLine: chunk.startLine,
    endLine: chunk.endLine,
    heading: chunk.headingPath.join(' › '),
    score: round(hit.score, 6),
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
