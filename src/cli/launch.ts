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
 * short run that finds none it can use (missing, made for other sources, by another V8 or with
 * other flags), beside the bundle, so it is as trusted as the bundle itself; a folder that cannot be
 * written to just runs uncached. Its header holds the SHA-256 of the source it was made from (V8
 * checks only the source's length) and of its payload (a release V8 does not verify its own
 * checksum).
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { tierForShortRun, tieredForLongRun } from '../core/tiering.js';

const DIGEST_BYTES = 32;

function sha256(bytes: string | Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** The cached data for `sourceDigest` in `file`, if it holds a whole cache made from that source. */
function readCache(file: string, sourceDigest: Buffer): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  const data = bytes.subarray(2 * DIGEST_BYTES);
  const matches = bytes.length > 2 * DIGEST_BYTES && bytes.subarray(0, DIGEST_BYTES).equals(sourceDigest) && bytes.subarray(DIGEST_BYTES, 2 * DIGEST_BYTES).equals(sha256(data));
  return matches ? data : undefined;
}

function writeCache(file: string, sourceDigest: Buffer, data: Buffer): void {
  const temp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(temp, Buffer.concat([sourceDigest, sha256(data), data]));
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
  const cachedData = readCache(cacheFile, sourceDigest);
  // Its dynamic imports (an embedder's modules, other commands') are requires of the ESM CLI's chunks (see esbuild.config.mjs).
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    // After the command: the cache then holds the functions it compiled, not only the top level.
    // Not after a long run (an index run with parse workers, tiering.ts): it compiled its parser
    // in the workers, so its cache lacked what a one-file update parses with on this thread
    // (~10 ms more per such run), and the cache saves a long run a fraction of a percent. The next short run writes it.
    process.once('exit', () => {
      if (!tieredForLongRun()) writeCache(cacheFile, sourceDigest, script.createCachedData());
    });
  }
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
