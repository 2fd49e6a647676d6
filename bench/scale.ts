/**
 * bench:scale — Docent's store at the size of a real documentation set, side by side with
 * SQLite FTS5 (the sqlite3 shell: unicode61 and trigram tokenizers), MiniSearch and ripgrep.
 * The corpus is built from the Debian packages in scale-corpus.json (apt-get download + dpkg -x
 * into .cache/bench-scale). Each measurement runs every system as its own process under
 * /usr/bin/time (wall seconds, peak RSS), systems alternating within each round. Prints the
 * issue-12 table for the full corpus and a 10% / 30% / 100% curve; writes results/scale.json. The full
 * index ratio is the median of the rounds' own ratios (each round runs Docent and FTS5 back to back).
 * The modify-1 row edits one file and runs `docent index --changed <it>` (FTS5 is given the path too); the
 * same edit found by a walk of the whole folder is its own row.
 * `--fractions 10,30` limits the curve; `--rounds N` repeats each measurement (median kept).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { formatTable, writeResults } from './report.js';

const ROOT = path.resolve(__dirname, '..');
const CACHE = path.join(ROOT, '.cache', 'bench-scale');
const CLI = path.join(ROOT, 'dist', 'cli.js');
/** One-file updates per round, each Docent's and FTS5's back to back (modifyRatios). */
const EDITS_PER_ROUND = 3;

const QUERIES = [
  'configure streaming replication slots',
  'git rebase interactive squash commits',
  'cmake add_library shared object',
  'django queryset filter related objects',
  'python asyncio event loop run forever',
  'kernel module parameters at boot',
  'node stream backpressure pipe',
  'apt sources list security updates',
  'vacuum freeze transaction wraparound',
  'network interface bridge configuration',
];

interface CorpusPackage {
  package: string;
  version: string;
  dir: string;
  keep: string;
  as: string;
}

interface Measured {
  seconds: number;
  peakMiB: number;
}

/** Builds (once) the corpus directory and its 10/30% subsets; returns the directory of `fraction`. */
async function corpus(fraction: number): Promise<string> {
  const target = path.join(CACHE, `corpus-${fraction}`);
  if (existsSync(path.join(target, '.complete'))) return target;
  const { packages } = JSON.parse(readFileSync(path.join(__dirname, 'scale-corpus.json'), 'utf8')) as { packages: CorpusPackage[] };
  const debs = path.join(CACHE, 'debs');
  const unpacked = path.join(CACHE, 'root');
  await fs.mkdir(debs, { recursive: true });
  let listsUpdated = false;
  for (const pkg of packages) {
    if ((await fs.readdir(debs)).some((name) => name.startsWith(`${pkg.package}_`))) continue;
    const download = () => spawnSync('apt-get', ['download', `${pkg.package}=${pkg.version}`], { cwd: debs, stdio: 'inherit' }).status === 0;
    if (download()) continue;
    // A fresh machine's package lists can predate the pinned version: read them again once.
    if (!listsUpdated) {
      listsUpdated = true;
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
      if (download()) continue;
    }
    throw new Error(`bench:scale: apt-get cannot download ${pkg.package}=${pkg.version}; \`apt-cache madison ${pkg.package}\` lists the versions the mirror has, and bench/scale-corpus.json pins this one`);
  }
  if (!existsSync(unpacked)) for (const deb of await fs.readdir(debs)) execFileSync('dpkg', ['-x', path.join(debs, deb), unpacked]);
  const files: { from: string; to: string }[] = [];
  for (const pkg of packages) {
    const base = path.join(unpacked, 'usr/share/doc', pkg.dir);
    const keep = new RegExp(pkg.keep);
    for (const relative of (await fs.readdir(base, { recursive: true })) as string[]) {
      const plain = relative.replace(/\.gz$/, '');
      if (keep.test(plain)) files.push({ from: path.join(base, relative), to: path.join(pkg.package, plain.replace(/(\.rst)?\.[^./]+$/, pkg.as)) });
    }
  }
  files.sort((a, b) => a.to.localeCompare(b.to));
  await fs.rm(target, { recursive: true, force: true });
  // Every tenth file from the start: the 10% and 30% subsets sample every package evenly.
  for (const [i, file] of files.entries()) {
    if (i % 10 >= fraction / 10) continue;
    const out = path.join(target, file.to);
    await fs.mkdir(path.dirname(out), { recursive: true });
    const bytes = await fs.readFile(file.from);
    await fs.writeFile(out, file.from.endsWith('.gz') ? gunzipSync(bytes) : bytes);
  }
  await fs.writeFile(path.join(target, '.complete'), '');
  return target;
}

/** Runs a command under /usr/bin/time: wall seconds and peak RSS. */
/**
 * Every command runs without NODE_EXTRA_CA_CERTS: where it is set (this project's machines set it
 * for their proxy), each Node process reads and parses that CA bundle at startup, ~40 ms that
 * sqlite3 and ripgrep never pay and that a query on 127.0.0.1 or a file index never needs.
 */
const CHILD_ENV = { ...process.env, NODE_EXTRA_CA_CERTS: undefined };

/** Wall time by the clock around the spawn (time's %e counts in 10 ms steps: a 40 ms query was 0.03–0.05 s); peak RSS by time's %M. */
function timed(command: string, args: string[], input?: string): Measured & { stdout: string } {
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '@@%M', command, ...args], { encoding: 'utf8', input, maxBuffer: 1 << 28, env: CHILD_ENV });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const match = /@@(\d+)\s*$/.exec(result.stderr);
  if (result.status !== 0 || !match) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr.slice(-800)}`);
  return { seconds, peakMiB: Number(match[1]) / 1024, stdout: result.stdout };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The median of paired ratios (per round, edit or query), and their range when there are several: `×5.4 (×5.1–×6.0)`. */
function pairedRatios(ratios: number[]): string {
  const times = (value: number) => `×${value.toFixed(1)}`;
  return ratios.length > 1 ? `${times(median(ratios))} (${times(Math.min(...ratios))}–${times(Math.max(...ratios))})` : times(ratios[0]!);
}

function medianOf(runs: Measured[]): Measured {
  return { seconds: median(runs.map((run) => run.seconds)), peakMiB: median(runs.map((run) => run.peakMiB)) };
}

const sqlString = (text: string) => `'${text.replace(/'/g, "''")}'`;

function fts5Build(dir: string, db: string, tokenizer: 'unicode61' | 'trigram'): Measured {
  const sql = `CREATE VIRTUAL TABLE docs USING fts5(path, body, tokenize=${sqlString(tokenizer)});
INSERT INTO docs(path, body) SELECT name, CAST(data AS TEXT) FROM fsdir(${sqlString(dir)}) WHERE mode & 0x8000;`;
  return timed('sqlite3', [db], sql);
}

/** FTS5's default is AND of every word; OR with bm25 ranking is the comparable workload. */
function fts5Match(query: string): string {
  return query
    .split(/\s+/)
    .map((word) => `"${word.replace(/"/g, '')}"`)
    .join(' OR ');
}

function fts5Query(query: string): string {
  return `SELECT path FROM docs WHERE docs MATCH ${sqlString(fts5Match(query))} ORDER BY rank LIMIT 10;`;
}

/** Per-query latency inside one warm sqlite3 process (its own `.timer`). */
function fts5Warm(db: string, repeats: number): number[] {
  const statements = Array.from({ length: repeats }, () => QUERIES.map((query) => fts5Query(query)).join('\n')).join('\n');
  const output = execFileSync('sqlite3', [db], { input: `.timer on\n${statements}\n`, encoding: 'utf8', maxBuffer: 1 << 28 });
  return [...output.matchAll(/Run Time: real ([\d.]+)/g)].map((match) => Number(match[1]) * 1000).slice(QUERIES.length);
}

const MINISEARCH_SCRIPT = `
const MiniSearch = require('minisearch');
const fs = require('node:fs');
const path = require('node:path');
const dir = process.argv[1];
const index = new MiniSearch({ fields: ['body'], storeFields: ['path'] });
let id = 0;
for (const name of fs.readdirSync(dir, { recursive: true })) {
  const full = path.join(dir, name);
  if (fs.statSync(full).isFile()) index.add({ id: id++, path: name, body: fs.readFileSync(full, 'utf8') });
}
`;

/** Docent's warm query latency in this process: the store open, one warm-up pass, then every query `repeats` times. */
async function docentWarm(store: string, repeats: number): Promise<number[]> {
  const { Workspace } = await import('../src/core/workspace/workspace.js');
  const workspace = await Workspace.open({ folders: [{ name: 'corpus', storeDir: store }] });
  try {
    for (const query of QUERIES) await workspace.search(query, { k: 10 });
    const times: number[] = [];
    for (let round = 0; round < repeats; round++) {
      for (const query of QUERIES) {
        const started = performance.now();
        await workspace.search(query, { k: 10 });
        times.push(performance.now() - started);
      }
    }
    return times;
  } finally {
    await workspace.close();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface FractionResult {
  fraction: number;
  files: number;
  megabytes: number;
  passages: number;
  storeMiB: number;
  docentIndex: Measured;
  fts5Index: Measured;
  /**
   * Each round's Docent ÷ FTS5 full-index time (the two run back to back): on a shared VM the
   * machine's speed drifts between rounds, and a ratio within a round cancels what moves both.
   */
  indexRatios: number[];
  fts5TrigramIndex: Measured;
  minisearchIndex: Measured;
  docentUnchanged?: Measured;
  /** `docent index --changed <the file>`: the counterpart of FTS5's update, which is told the path too. */
  docentModified?: Measured;
  /** The same edit found by a walk of the whole folder (no --changed). */
  docentModifiedWalk?: Measured;
  fts5Modified?: Measured;
  /**
   * Docent ÷ FTS5 for each edit, the two updates run back to back, as indexRatios: one process
   * of ~0.1 s each way moves with the VM from one second to the next (0.13–0.20 s for the same
   * Docent update within a minute), so the ratio of two medians taken apart is noisier.
   */
  modifyRatios?: number[];
  docentColdQuery?: Measured;
  /** Docent ÷ FTS5 trigram for each query, the two run back to back. */
  coldQueryRatios?: number[];
  fts5TrigramColdQuery?: Measured;
  ripgrepColdQuery?: Measured;
  docentWarmMs?: { p50: number; p99: number };
  fts5WarmMs?: { p50: number; p99: number };
}

/**
 * Reads every file of `dir` once, so the build timed next starts with the corpus in the page cache.
 * Without it the tools did not start alike: FTS5 ran right after Docent had read the whole corpus,
 * while Docent ran after MiniSearch's ~35 s, by which time this VM's kernel (DAMON reclaim) had
 * evicted much of it; a cold cache costs FTS5's one thread ~2 s and Docent's readers less.
 */
async function warmPageCache(dir: string): Promise<void> {
  for (const name of (await fs.readdir(dir, { recursive: true })) as string[]) {
    const file = path.join(dir, name);
    if ((await fs.stat(file)).isFile()) await fs.readFile(file);
  }
}

async function dirBytes(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const name of (await fs.readdir(dir, { recursive: true })) as string[]) {
    const stat = await fs.stat(path.join(dir, name));
    if (stat.isFile() && name !== '.complete') {
      files++;
      bytes += stat.size;
    }
  }
  return { files, bytes };
}

async function measureFraction(fraction: number, rounds: number, full: boolean): Promise<FractionResult> {
  // Real path: sqlite's fsdir() does not descend into a symbolic link (a worktree's corpus is one).
  const dir = await fs.realpath(await corpus(fraction));
  const work = path.join(CACHE, `work-${fraction}`);
  const size = await dirBytes(dir);
  const docentIndex: Measured[] = [];
  const fts5Index: Measured[] = [];
  const fts5TrigramIndex: Measured[] = [];
  const minisearchIndex: Measured[] = [];
  const store = path.join(work, 'store');
  const db = path.join(work, 'fts5.db');
  const trigramDb = path.join(work, 'trigram.db');
  let passages = 0;
  for (let round = 0; round < rounds; round++) {
    // Alternating, from scratch each round.
    await fs.rm(work, { recursive: true, force: true });
    await fs.mkdir(work, { recursive: true });
    await warmPageCache(dir);
    const run = timed(process.execPath, [CLI, 'index', dir, '--store', store, '--embedder', 'none', '--json']);
    passages = JSON.parse(run.stdout).chunks;
    docentIndex.push(run);
    await warmPageCache(dir);
    fts5Index.push(fts5Build(dir, db, 'unicode61'));
    await warmPageCache(dir);
    fts5TrigramIndex.push(fts5Build(dir, trigramDb, 'trigram'));
    await warmPageCache(dir);
    minisearchIndex.push(timed(process.execPath, ['-e', MINISEARCH_SCRIPT, dir]));
  }
  const storeSize = await dirBytes(store);
  const result: FractionResult = {
    fraction,
    files: size.files,
    megabytes: size.bytes / 1e6,
    passages,
    storeMiB: storeSize.bytes / 2 ** 20,
    docentIndex: medianOf(docentIndex),
    fts5Index: medianOf(fts5Index),
    indexRatios: docentIndex.map((run, i) => run.seconds / fts5Index[i]!.seconds),
    fts5TrigramIndex: medianOf(fts5TrigramIndex),
    minisearchIndex: medianOf(minisearchIndex),
  };
  if (!full) return result;
  const unchanged: Measured[] = [];
  const modified: Measured[] = [];
  const modifiedWalk: Measured[] = [];
  const ftsModified: Measured[] = [];
  const coldDocent: Measured[] = [];
  const coldTrigram: Measured[] = [];
  const coldRipgrep: Measured[] = [];
  const victim = (await fs.readdir(dir, { recursive: true })).find((name) => String(name).endsWith('.md')) as string;
  const body = path.join(dir, victim);
  // The edits are undone afterwards: the corpus stays the packages' files, run after run.
  const original = await fs.readFile(body);
  const { atime, mtime } = await fs.stat(body);
  try {
    for (let round = 0; round < rounds; round++) {
      unchanged.push(timed(process.execPath, [CLI, 'index', dir, '--store', store, '--embedder', 'none', '--json']));
      for (let edit = 0; edit < EDITS_PER_ROUND; edit++) {
        await fs.appendFile(body, `\nbench:scale edit ${round}.${edit} ${Date.now()}\n`);
        modified.push(timed(process.execPath, [CLI, 'index', dir, '--store', store, '--embedder', 'none', '--json', '--changed', body]));
        ftsModified.push(timed('sqlite3', [db], `DELETE FROM docs WHERE path = ${sqlString(body)}; INSERT INTO docs(path, body) VALUES (${sqlString(body)}, CAST(readfile(${sqlString(body)}) AS TEXT));`));
      }
      await fs.appendFile(body, `\nbench:scale walk edit ${round} ${Date.now()}\n`);
      modifiedWalk.push(timed(process.execPath, [CLI, 'index', dir, '--store', store, '--embedder', 'none', '--json']));
      for (const query of QUERIES.slice(0, 3)) {
        coldDocent.push(timed(process.execPath, [CLI, 'query', query, '--store', store, '--k', '10']));
        coldTrigram.push(timed('sqlite3', [trigramDb, fts5Query(query)]));
        coldRipgrep.push(timed('sh', ['-c', `rg -l -i -e ${query.split(' ').map((word) => `'${word}'`).join(' -e ')} '${dir}' | head -10`]));
      }
    }
  } finally {
    await fs.writeFile(body, original);
    await fs.utimes(body, atime, mtime);
  }
  const docentWarmTimes = await docentWarm(store, Math.max(3, rounds * 3));
  const ftsWarmTimes = fts5Warm(db, Math.max(3, rounds * 3));
  return {
    ...result,
    docentUnchanged: medianOf(unchanged),
    docentModified: medianOf(modified),
    docentModifiedWalk: medianOf(modifiedWalk),
    fts5Modified: medianOf(ftsModified),
    modifyRatios: modified.map((run, i) => run.seconds / ftsModified[i]!.seconds),
    docentColdQuery: medianOf(coldDocent),
    coldQueryRatios: coldDocent.map((run, i) => run.seconds / coldTrigram[i]!.seconds),
    fts5TrigramColdQuery: medianOf(coldTrigram),
    ripgrepColdQuery: medianOf(coldRipgrep),
    docentWarmMs: { p50: percentile(docentWarmTimes, 50), p99: percentile(docentWarmTimes, 99) },
    fts5WarmMs: { p50: percentile(ftsWarmTimes, 50), p99: percentile(ftsWarmTimes, 99) },
  };
}

export function optionsFromArgv(argv: string[]): { fractions: number[]; rounds: number } {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return { fractions: (value('--fractions') ?? '10,30,100').split(',').map(Number), rounds: Number(value('--rounds') ?? 1) };
}

export async function runBench({ fractions, rounds }: { fractions: number[]; rounds: number } = { fractions: [10, 30, 100], rounds: 1 }): Promise<void> {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: npm run build');
  const results: FractionResult[] = [];
  const largest = Math.max(...fractions);
  for (const fraction of fractions) results.push(await measureFraction(fraction, rounds, fraction === largest));
  const curve = formatTable(
    ['corpus', 'files', 'MB', 'passages', 'store MiB', 'Docent index s', 'peak MiB', 'FTS5 unicode61 s', 'peak MiB', 'FTS5 trigram s', 'MiniSearch s', 'peak MiB', 'Docent / FTS5 (rounds)'],
    results.map((r) => [
      `${r.fraction}%`,
      String(r.files),
      r.megabytes.toFixed(1),
      String(r.passages),
      r.storeMiB.toFixed(1),
      r.docentIndex.seconds.toFixed(2),
      r.docentIndex.peakMiB.toFixed(0),
      r.fts5Index.seconds.toFixed(2),
      r.fts5Index.peakMiB.toFixed(0),
      r.fts5TrigramIndex.seconds.toFixed(2),
      r.minisearchIndex.seconds.toFixed(2),
      r.minisearchIndex.peakMiB.toFixed(0),
      pairedRatios(r.indexRatios),
    ]),
  );
  console.log(curve);
  const top = results.find((r) => r.fraction === largest)!;
  const ratio = (a: number, b: number) => `×${(a / b).toFixed(1)}`;
  const table = formatTable(
    ['', 'Docent', 'peer', 'ratio'],
    [
      ['full index, --embedder none', `${top.docentIndex.seconds.toFixed(2)} s`, `FTS5 unicode61 ${top.fts5Index.seconds.toFixed(2)} s`, pairedRatios(top.indexRatios)],
      ['peak RSS while indexing', `${top.docentIndex.peakMiB.toFixed(0)} MiB`, `FTS5 ${top.fts5Index.peakMiB.toFixed(0)} MiB`, ratio(top.docentIndex.peakMiB, top.fts5Index.peakMiB)],
      [
        'one cold `docent query` process',
        `${top.docentColdQuery!.seconds.toFixed(3)} s, ${top.docentColdQuery!.peakMiB.toFixed(0)} MiB`,
        `FTS5 trigram ${top.fts5TrigramColdQuery!.seconds.toFixed(3)} s; ripgrep ${top.ripgrepColdQuery!.seconds.toFixed(3)} s`,
        `${pairedRatios(top.coldQueryRatios!)}; ${ratio(top.docentColdQuery!.seconds, top.ripgrepColdQuery!.seconds)}`,
      ],
      ['re-index after modifying 1 file (--changed)', `${top.docentModified!.seconds.toFixed(3)} s`, `FTS5 ${top.fts5Modified!.seconds.toFixed(3)} s`, pairedRatios(top.modifyRatios!)],
      ['… found by walking the folder', `${top.docentModifiedWalk!.seconds.toFixed(3)} s`, `FTS5 ${top.fts5Modified!.seconds.toFixed(3)} s`, ratio(top.docentModifiedWalk!.seconds, top.fts5Modified!.seconds)],
      ['re-index, nothing changed', `${top.docentUnchanged!.seconds.toFixed(2)} s`, '—', '—'],
      [
        'warm query p50 / p99',
        `${top.docentWarmMs!.p50.toFixed(1)} / ${top.docentWarmMs!.p99.toFixed(1)} ms`,
        `FTS5 unicode61 ${top.fts5WarmMs!.p50.toFixed(1)} / ${top.fts5WarmMs!.p99.toFixed(1)} ms`,
        `${ratio(top.docentWarmMs!.p50, top.fts5WarmMs!.p50)} / ${ratio(top.docentWarmMs!.p99, top.fts5WarmMs!.p99)}`,
      ],
    ],
  );
  console.log(`\n${table}`);
  console.log(`\nwrote ${await writeResults('scale', { rounds, queries: QUERIES, results })}`);
}
