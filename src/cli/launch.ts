/**
 * dist/cli.js, the `docent` binary (CommonJS: the package is not "type": "module"). `docent query`
 * and `docent index` run dist/cliQuery.js and dist/cliIndex.js, the same CLI as one CommonJS file
 * each, compiled with V8's code cache; every other command runs the ESM CLI (dist/cli.mjs and its
 * cli-*.mjs chunks, split at their dynamic imports so a command compiles only what it uses). A
 * cold query spent ~30 ms resolving and linking its sixteen ES modules and as much again compiling
 * them and the functions its search calls, about a third of the process; from one file and the
 * cache it does neither (Node 22's module.enableCompileCache() does the same for ES modules; Node
 * 20 has only vm.Script's). An index run of one changed file is as short, and pays the same.
 *
 * A command's cache (dist/cliQuery.js.v8cache, dist/cliIndex.js.v8cache) is written by the first
 * run that finds none it can use (missing, made for other sources, by another V8 or with other
 * flags), beside the bundle, so it is as trusted as the bundle itself; a folder that cannot be
 * written to just runs uncached. Its header holds the SHA-256 of the source it was made from (V8
 * checks only the source's length) and of the rest (a release V8 does not verify its own
 * checksum), then what the run that wrote it did (COVERS_PARSING).
 *
 * A cache holds only the functions its writer compiled. The first index run is usually a full
 * one, which parses in worker threads, and each run after it that finds nothing changed parses
 * nothing: a cache from either lacked the parser, which a one-file update then compiled every
 * time (its cache was 366 KB where an update's is 417 KB). So the first run that parses a file
 * on this thread writes the cache again, with what it compiled added to what it loaded.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { filesParsedOnThisThread } from '../core/threadWork.js';
import { tierForShortRun } from '../core/tiering.js';

const DIGEST_BYTES = 32;

function sha256(bytes: string | Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** The header's last byte: the run that wrote the cache parsed files on its own thread (threadWork.ts). */
const COVERS_PARSING = 1;
const HEADER_BYTES = 2 * DIGEST_BYTES + 1;

interface CodeCache {
  data: Buffer;
  covers: number;
}

/** The cache for `sourceDigest` in `file`, if it holds a whole one made from that source. */
function readCache(file: string, sourceDigest: Buffer): CodeCache | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  const matches = bytes.length > HEADER_BYTES && bytes.subarray(0, DIGEST_BYTES).equals(sourceDigest) && bytes.subarray(DIGEST_BYTES, 2 * DIGEST_BYTES).equals(sha256(bytes.subarray(2 * DIGEST_BYTES)));
  return matches ? { data: bytes.subarray(HEADER_BYTES), covers: bytes[HEADER_BYTES - 1]! } : undefined;
}

function writeCache(file: string, sourceDigest: Buffer, cache: CodeCache): void {
  const temp = `${file}.tmp-${process.pid}`;
  const body = Buffer.concat([Buffer.of(cache.covers), cache.data]);
  try {
    writeFileSync(temp, Buffer.concat([sourceDigest, sha256(body), body]));
    // Renamed into place: a query starting meanwhile reads the old cache or the new one, never half of one.
    renameSync(temp, file);
  } catch {
    // A read-only install: the command runs uncached.
  }
}

/** The commands run from one CommonJS file with a code cache, and their files beside this one. */
const COMMAND_FILES: ReadonlyMap<string | undefined, string> = new Map([
  ['query', 'cliQuery.js'],
  ['index', 'cliIndex.js'],
]);

function runCommandFile(name: string): void {
  // Before the bundle compiles: its code cache is checked against the flags it was made with.
  tierForShortRun();
  const file = path.join(__dirname, name);
  const cacheFile = `${file}.v8cache`;
  // The file's bytes are hashed, not the string: the same digest (its UTF-8) without encoding half a megabyte again.
  const bytes = readFileSync(file);
  const source = bytes.toString('utf8');
  const sourceDigest = sha256(bytes);
  const cached = readCache(cacheFile, sourceDigest);
  // Its dynamic imports (an embedder's modules, other commands') are requires of the ESM CLI's chunks (see esbuild.config.mjs).
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData: cached?.data });
  const loaded = cached !== undefined && !script.cachedDataRejected ? cached.covers : undefined;
  // After the command: the cache then holds the functions it compiled (and those it loaded), not only the top level.
  process.once('exit', () => {
    const covers = (loaded ?? 0) | (filesParsedOnThisThread() ? COVERS_PARSING : 0);
    if (loaded === covers) return;
    // Made with the flags the next launch compiles with, which a long index run changed (tiering.ts).
    tierForShortRun();
    writeCache(cacheFile, sourceDigest, { data: script.createCachedData(), covers });
  });
  const bundle = new Module(file, module);
  bundle.filename = file;
  bundle.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(__dirname);
  const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
  run.call(bundle.exports, bundle.exports, Module.createRequire(file), bundle, file, __dirname);
}

/** Beside this file; named by a variable so the bundler leaves it to load at run time. */
const ESM_CLI = './cli.mjs';

const requiresModules = process.features.require_module;

const commandFile = COMMAND_FILES.get(process.argv[2]);

if (commandFile !== undefined && requiresModules) runCommandFile(commandFile);
// Node 20.19+ requires ES modules, reading their files synchronously: a cold command waits on its
// modules' reads rather than on import's thread-pool round trips. Older Nodes import.
else if (requiresModules) require(ESM_CLI);
else void import(ESM_CLI);
