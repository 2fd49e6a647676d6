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

const browser = {
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: production,
  sourcemap: false,
  logLevel: 'warning',
};

await Promise.all([
  esbuild.build({ ...shared, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist' }),
  // Worker threads load their own bundle, found beside the one that starts them.
  esbuild.build({ ...shared, entryPoints: { embeddingWorker: 'src/core/embedding/embeddingWorker.ts' }, outdir: 'dist' }),
  esbuild.build({ ...shared, entryPoints: { decoderWorker: 'src/generation/decoderWorker.ts' }, outdir: 'dist' }),
  // The extension runs all of src/core in this child process, off the extension host.
  esbuild.build({ ...shared, entryPoints: { coreProcess: 'src/extension/coreProcess/main.ts' }, outdir: 'dist' }),
  // The in-host test suite (extensionTestsPath) of test/e2e.
  esbuild.build({ ...shared, entryPoints: { 'test/inHostSuite': 'test/e2e/inHostSuite.ts' }, outdir: 'dist' }),
  // The chat view and the Show Metrics panel run in the editor's browser sandbox.
  esbuild.build({ ...browser, entryPoints: { webview: 'webview/main.ts', metrics: 'webview/metrics.ts' }, outdir: 'dist' }),
  esbuild.build({ ...shared, entryPoints: { cli: 'src/cli/bin.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } }),
]);
