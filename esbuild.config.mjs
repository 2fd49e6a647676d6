// Bundles every entry point to CommonJS for Node 20. `vscode` is provided by the editor, and
// native addons (onnxruntime-node, hnswlib-node) must load their .node binaries from
// node_modules, so they stay external.
import { readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { builtinModules } from 'node:module';
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

/**
 * The CLI is ESM split at its dynamic imports, so a command compiles and runs only what it uses: a
 * cold `docent query` must not parse the MCP SDK, the generation engine or the answer pipeline
 * (one CommonJS bundle spent ~0.3 s compiling them). Its chunks sit beside the other bundles in
 * dist/, where the code finds models and worker scripts through __dirname, which (with require
 * for the native addons) this banner defines as CommonJS would.
 */
const cliEsm = {
  ...shared,
  format: 'esm',
  splitting: true,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'cli-[name]-[hash]',
  external: ['vscode'],
  banner: {
    js: [
      "import { createRequire as __docentCreateRequire } from 'node:module';",
      "import { fileURLToPath as __docentFileURLToPath } from 'node:url';",
      "import { dirname as __docentDirname } from 'node:path';",
      'const require = __docentCreateRequire(import.meta.url);',
      'const __filename = __docentFileURLToPath(import.meta.url);',
      'const __dirname = __docentDirname(__filename);',
    ].join('\n'),
  },
  plugins: [
    {
      // Native addons stay in node_modules and load through require: Node's ESM loader cannot
      // see the named exports of these CommonJS packages. Node's own modules load through require
      // too: importing one as ESM reads every export, which runs its lazy getters (node:crypto's
      // loads webcrypto, node:fs's its promises and streams), modules a query never uses.
      name: 'native-addons-by-require',
      setup(build) {
        const builtin = new RegExp(`^(${builtinModules.map((name) => `(node:)?${name.replace(/[/]/g, '\\/')}`).join('|')})$`);
        build.onResolve({ filter: /^(onnxruntime-node|hnswlib-node)$/ }, (args) =>
          args.namespace === 'native' ? { path: args.path, external: true } : { path: args.path, namespace: 'native' },
        );
        build.onResolve({ filter: builtin }, (args) =>
          // A dynamic import() of a Node module stays one: it loads when called, and as ESM has its named exports.
          args.namespace === 'native' || args.kind === 'dynamic-import' ? { path: args.path, external: true } : { path: args.path, namespace: 'native' },
        );
        build.onLoad({ filter: /.*/, namespace: 'native' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
      },
    },
  ],
};
for (const name of readdirSync('dist', { withFileTypes: true }).filter((entry) => /^cli-.*\.mjs(\.map)?$/.test(entry.name))) rmSync(`dist/${name.name}`);

await Promise.all([
  esbuild.build({ ...shared, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist' }),
  // Worker threads load their own bundle, found beside the one that starts them.
  esbuild.build({ ...shared, entryPoints: { embeddingWorker: 'src/core/embedding/embeddingWorker.ts' }, outdir: 'dist' }),
  esbuild.build({ ...shared, entryPoints: { parseWorker: 'src/core/parseWorker.ts' }, outdir: 'dist' }),
  esbuild.build({ ...shared, entryPoints: { graphWorker: 'src/core/graphWorker.ts' }, outdir: 'dist' }),
  esbuild.build({ ...shared, entryPoints: { decoderWorker: 'src/generation/decoderWorker.ts' }, outdir: 'dist' }),
  // The extension runs all of src/core in this child process, off the extension host.
  esbuild.build({ ...shared, entryPoints: { coreProcess: 'src/extension/coreProcess/main.ts' }, outdir: 'dist' }),
  // The in-host test suite (extensionTestsPath) of test/e2e.
  esbuild.build({ ...shared, entryPoints: { 'test/inHostSuite': 'test/e2e/inHostSuite.ts' }, outdir: 'dist' }),
  // The chat view and the Show Metrics panel run in the editor's browser sandbox.
  esbuild.build({ ...browser, entryPoints: { webview: 'webview/main.ts', metrics: 'webview/metrics.ts' }, outdir: 'dist' }),
  buildCli(),
]);

/**
 * The CLI from one source three times: ESM split at its dynamic imports (every command), and one
 * CommonJS file each for `docent query` and `docent index`, which dist/cli.js (src/cli/launch.ts)
 * runs with V8's code cache. A command file's dynamic imports require the ESM build's chunk of the
 * same module (Node 20.19+ requires ES modules; V8 drops a script's dynamic-import callback when it
 * is compiled from a code cache), except the modules its command always loads, which it carries:
 * the index file holds the indexer, discovery, the in-process parser (a `--changed` run of one
 * file spent ~60 ms resolving, linking and compiling those chunks) and the parse workers' pool
 * (initialised only by a run that starts them, so a short run does not load worker_threads).
 */
async function buildCli() {
  const esm = await esbuild.build({ ...cliEsm, entryPoints: { cli: 'src/cli/bin.ts' }, outdir: 'dist', metafile: true });
  const chunkOf = new Map(
    Object.entries(esm.metafile.outputs).flatMap(([output, { entryPoint }]) => (entryPoint && output.endsWith('.mjs') ? [[path.resolve(entryPoint), `./${path.basename(output)}`]] : [])),
  );
  const commandFile = (name, carried) =>
    esbuild.build({
      ...shared,
      entryPoints: { [name]: 'src/cli/bin.ts' },
      outdir: 'dist',
      supported: { 'dynamic-import': false },
      plugins: [
        {
          name: 'dynamic-imports-from-esm-chunks',
          setup(build) {
            build.onResolve({ filter: /^\./ }, async (args) => {
              if (args.kind !== 'dynamic-import' || args.pluginData === 'resolving') return undefined;
              const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'resolving' });
              if (carried.includes(path.relative('src', resolved.path))) return { path: resolved.path };
              const chunk = chunkOf.get(resolved.path);
              if (!chunk) return { errors: [{ text: `${args.path} is imported dynamically but is no chunk of the ESM CLI` }] };
              return { path: chunk, external: true };
            });
          },
        },
      ],
    });
  await Promise.all([commandFile('cliQuery', []), commandFile('cliIndex', ['core/indexer.ts', 'core/discovery.ts', 'core/fileParser.ts', 'core/parseThreads.ts'])]);
  await esbuild.build({ ...shared, sourcemap: false, entryPoints: { cli: 'src/cli/launch.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } });
}
