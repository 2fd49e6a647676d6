/**
 * `npm run bench [-- name …]`: runs the named benchmarks (default: all) one after another, so
 * they never compete for the two cores. Each prints its table and writes bench/results/<name>.json.
 */
const BENCHES: Record<string, () => Promise<{ runBench: () => Promise<unknown> }>> = {
  retrieval: () => import('./retrieval.js'),
  ann: () => import('./ann.js'),
  indexing: () => import('./indexing.js'),
  embed: () => import('./embed.js'),
  pipeline: () => import('./pipeline.js'),
  generation: () => import('./generation.js'),
};

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  const unknown = names.filter((name) => !(name in BENCHES));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    console.log(`\n=== bench:${name} ===`);
    await (await BENCHES[name]!()).runBench();
  }
}

void main();
