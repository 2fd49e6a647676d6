// Bundles every entry point to CommonJS for Node 20. `vscode` is provided by the editor, and
// native addons (onnxruntime-node, hnswlib-node) must load their .node binaries from
// node_modules, so they stay external.
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');

const shared = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  external: ['vscode', 'onnxruntime-node', 'hnswlib-node'],
  logLevel: 'warning',
};

await Promise.all([
  esbuild.build({ ...shared, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist' }),
  // Worker threads load their own bundle, found beside the one that starts them.
  esbuild.build({ ...shared, entryPoints: { embeddingWorker: 'src/core/embedding/embeddingWorker.ts' }, outdir: 'dist' }),
  esbuild.build({ ...shared, entryPoints: { cli: 'src/cli/index.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } }),
]);
