// `npm run package [-- --target linux-x64]`: a platform-specific VSIX holding only what runs.
// The production bundles are built, then a staging folder gets the manifest, the user-facing
// README (README.marketplace.md; README.md is the developers'), CHANGELOG, LICENSE, media, dist
// (no source maps, no test bundle) and exactly the runtime packages the bundles leave external
// (the native addons and what they require): their code, binaries for the target platform and
// licences only, no build leftovers or dotfiles. vsce packages that folder.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
// onnxruntime-node 1.30 ships no darwin-x64 binary (bin/napi-v6/darwin has arm64 only), so there
// is no Intel-Mac VSIX: it could not load a model.
const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];
const targetFlag = process.argv.indexOf('--target');
const target = targetFlag >= 0 ? process.argv[targetFlag + 1] : `${process.platform}-${process.arch}`;
if (!TARGETS.includes(target)) {
  const reason = target === 'darwin-x64' ? ' (onnxruntime-node 1.30 has no macOS x64 binary)' : '';
  console.error(`package: unknown target "${target}"${reason} (one of ${TARGETS.join(', ')})`);
  process.exit(2);
}
const [platform, arch] = target.split('-');
if (target !== `${process.platform}-${process.arch}`) {
  // hnswlib-node is compiled by node-gyp at install time, for this machine only.
  console.warn(`package: warning: hnswlib-node in node_modules was built for ${process.platform}-${process.arch}; build ${target} VSIXs on a ${target} machine`);
}

if (!process.argv.includes('--no-build')) execFileSync('npm', ['run', 'build', '--', '--production'], { cwd: root, stdio: 'inherit' });
for (const bundle of ['extension.js', 'coreProcess.js', 'embeddingWorker.js', 'parseWorker.js', 'graphWorker.js', 'decoderWorker.js', 'cli.js', 'cliQuery.js', 'cliIndex.js', 'webview.js', 'metrics.js']) {
  if (!existsSync(path.join(root, 'dist', bundle))) {
    console.error(`package: dist/${bundle} is missing (is its entry in esbuild.config.mjs?)`);
    process.exit(1);
  }
}

/** Runtime packages: the bundles' externals and their runtime requires (install-time helpers left out). */
const RUNTIME_PACKAGES = ['onnxruntime-node', 'onnxruntime-common', 'hnswlib-node', 'bindings', 'file-uri-to-path'];

const stage = path.join(root, '.cache', 'package', target);
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
// The staged manifest declares only what the VSIX carries; scripts would run vsce's prepublish.
delete manifest.scripts;
delete manifest.devDependencies;
manifest.dependencies = Object.fromEntries(RUNTIME_PACKAGES.filter((name) => manifest.dependencies?.[name]).map((name) => [name, manifest.dependencies[name]]));
writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
cpSync(path.join(root, 'README.marketplace.md'), path.join(stage, 'README.md'));
for (const file of ['CHANGELOG.md', 'LICENSE', 'media']) cpSync(path.join(root, file), path.join(stage, file), { recursive: true });
cpSync(path.join(root, 'dist'), path.join(stage, 'dist'), {
  recursive: true,
  // A query's V8 code cache is made by the Node that runs it (src/cli/launch.ts), never shipped.
  filter: (source) => !source.endsWith('.map') && !source.endsWith('.v8cache') && !source.includes(`${path.sep}dist${path.sep}test`),
});
/**
 * Whether a runtime package's file or folder goes into the VSIX. Never: dotfiles, sources,
 * typings, docs, tests, and node-gyp's output besides the addon itself (its config.gypi and
 * Makefiles record the builder's home and tool paths).
 */
function ships(name, relative, isFile) {
  if (relative.some((part) => part.startsWith('.'))) return false;
  if (name === 'onnxruntime-node' && relative[0] === 'bin' && relative.length >= 3) {
    if (relative[2] !== platform) return false;
    if (relative.length >= 4 && relative[3] !== arch) return false;
  }
  if (name === 'onnxruntime-node' && relative[0] === 'script') return false;
  if (name === 'hnswlib-node' && relative[0] === 'build') {
    return isFile ? relative.length === 3 && relative[1] === 'Release' && relative[2].endsWith('.node') : relative.length === 1 || (relative.length === 2 && relative[1] === 'Release');
  }
  if (!isFile) return !['src', 'deps', 'docs', 'test', 'tests'].includes(relative.at(-1));
  const file = relative.at(-1);
  if (/^licen[cs]e/i.test(file)) return true;
  return !/\.(d\.ts|ts|map|md|markdown|gyp|gypi|mk|cc|cpp|h|hpp|yml|yaml)$/i.test(file) && !/^(Makefile|History|CHANGELOG|README)/i.test(file);
}
for (const name of RUNTIME_PACKAGES) {
  const from = path.join(root, 'node_modules', name);
  cpSync(from, path.join(stage, 'node_modules', name), {
    recursive: true,
    filter: (source) => source === from || ships(name, path.relative(from, source).split(path.sep), statSync(source).isFile()),
  });
}
// Install-time helpers (adm-zip, global-agent, node-addon-api) are not shipped; drop them from
// the staged manifests so vsce's dependency listing agrees with what is there.
for (const name of RUNTIME_PACKAGES) {
  const file = path.join(stage, 'node_modules', name, 'package.json');
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  pkg.dependencies = Object.fromEntries(Object.entries(pkg.dependencies ?? {}).filter(([dependency]) => RUNTIME_PACKAGES.includes(dependency)));
  writeFileSync(file, JSON.stringify(pkg, null, 2));
}
cpSync(path.join(root, '.vscodeignore'), path.join(stage, '.vscodeignore'));

const out = path.join(root, `${manifest.name}-${target}-${manifest.version}.vsix`);
const vsce = path.join(root, 'node_modules', '.bin', 'vsce');
// vsce prompts on warnings when it has a terminal; stdin from /dev/null answers nothing.
// With a repository, README's relative links resolve against it; without one they stay relative,
// which the extension page of an installed VSIX resolves inside the extension (media/ ships).
const base = manifest.repository?.url ? String(manifest.repository.url).replace(/\.git$/, '') : undefined;
const links = base ? ['--baseContentUrl', `${base}/blob/HEAD`, '--baseImagesUrl', `${base}/raw/HEAD`] : ['--allow-missing-repository', '--no-rewrite-relative-links'];
execFileSync(vsce, ['package', '--target', target, '--out', out, ...links], { cwd: stage, stdio: ['ignore', 'inherit', 'inherit'] });
console.log(`package: ${path.relative(root, out)} (${(statSync(out).size / 2 ** 20).toFixed(1)} MiB)`);
