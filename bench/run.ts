/**
 * `npm run bench [-- name …] [--flag value …]`: runs the named benchmarks (default: all) one
 * after another, so they never compete for the two cores. Each prints its table and writes
 * bench/results/<name>.json. Flags go to the benchmarks that read them (e.g.
 * `npm run bench:embed -- --device cuda`, `npm run bench:generation -- --quick`).
 */
interface BenchModule {
  runBench: (options?: never) => Promise<unknown>;
  optionsFromArgv?: (argv: string[]) => unknown;
}

const BENCHES: Record<string, () => Promise<BenchModule>> = {
  retrieval: () => import('./retrieval.js'),
  confidence: () => import('./confidence.js'),
  followup: () => import('./followups.js'),
  ann: () => import('./ann.js'),
  indexing: () => import('./indexing.js'),
  embed: () => import('./embed.js'),
  pipeline: () => import('./pipeline.js'),
  generation: () => import('./generation.js'),
  soak: () => import('./soak.js'),
  scale: () => import('./scale.js'),
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // A word right after a --flag is that flag's value unless it names a benchmark.
  const names = argv.filter((arg, i) => !arg.startsWith('--') && (i === 0 || !argv[i - 1]!.startsWith('--') || arg in BENCHES));
  const unknown = names.filter((name) => !(name in BENCHES));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    console.log(`\n=== bench:${name} ===`);
    const bench = await BENCHES[name]!();
    await bench.runBench(bench.optionsFromArgv?.(argv) as never);
  }
}

void main();
