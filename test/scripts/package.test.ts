/**
 * scripts/package.mjs (`npm run package`) on this machine's platform: the VSIX holds only what
 * runs, the user-facing README and a CHANGELOG, and no placeholder repository.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; repository?: { url?: string } };
const target = `${process.platform}-${process.arch}`;
const skip =
  spawnSync('unzip', ['-v']).status !== 0 ? 'unzip is not installed' : !existsSync(join(ROOT, 'dist', 'cli.js')) ? 'dist/ is not built (npm run build)' : false;

test('the VSIX carries the bundles, the runtime packages and their licences, and no build leftovers or dotfiles', { skip, timeout: 240_000 }, () => {
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), '--target', target, '--no-build'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(run.status, 0, run.stderr.slice(-2000));
  const vsix = join(ROOT, `${manifest.name}-${target}-${manifest.version}.vsix`);
  const files = execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).trim().split('\n');
  for (const required of ['extension/package.json', 'extension/readme.md', 'extension/changelog.md', 'extension/LICENSE.txt', 'extension/media/screenshot-chat.png', 'extension/dist/extension.js', 'extension/dist/coreProcess.js', 'extension/dist/cli.js', 'extension/dist/models/glove-sif-100d/model.onnx', 'extension/dist/models/docent-static-256d/model.onnx', 'extension/node_modules/hnswlib-node/build/Release/addon.node', 'extension/node_modules/hnswlib-node/lib/index.js']) {
    assert.ok(files.includes(required), `${required} is in the VSIX`);
  }
  // dist/cli.js only starts dist/cli.mjs, which imports its cli-*.mjs chunks on demand: a missing chunk breaks one command only.
  const cliModules = readdirSync(join(ROOT, 'dist')).filter((name) => /^cli(-.+)?\.mjs$/.test(name));
  assert.ok(cliModules.includes('cli.mjs') && cliModules.length > 1, `the CLI's ESM modules: ${cliModules.join(', ')}`);
  for (const module of cliModules) assert.ok(files.includes(`extension/dist/${module}`), `dist/${module} is in the VSIX`);
  const leftovers = files.filter((file) => /(^|\/)\.[^/]|config\.gypi$|Makefile$|\.mk$|\.map$|\.d\.ts$|\.tmp-|(^|\/)(src|deps|test)\/|node_modules\/[^/]+\/(README|CHANGELOG|History)/i.test(file));
  assert.deepEqual(leftovers, [], 'nothing that only builds, documents or tests a dependency');
  const readme = execFileSync('unzip', ['-p', vsix, 'extension/readme.md'], { encoding: 'utf8' });
  assert.match(readme, /^# Docent\n/);
  assert.match(readme, /## Privacy/);
  assert.doesNotMatch(readme, /npm (ci|test)|example\.invalid/, "the users' README, not the developers'");
  const packaged = execFileSync('unzip', ['-p', vsix, 'extension/package.json'], { encoding: 'utf8' });
  assert.doesNotMatch(packaged, /example\.invalid/);
  assert.doesNotMatch(execFileSync('unzip', ['-p', vsix, 'extension.vsixmanifest'], { encoding: 'utf8' }), /example\.invalid/);
  // The built-in models are most of it (issue 10 allows a model 25 MB); the rest is code and binaries.
  const modelBytes = new Map<string, number>();
  for (const line of execFileSync('unzip', ['-Zl', vsix], { encoding: 'utf8' }).split('\n')) {
    const folder = / extension\/dist\/models\/([^/]+)\//.exec(line)?.[1];
    if (folder) modelBytes.set(folder, (modelBytes.get(folder) ?? 0) + Number(line.trim().split(/\s+/)[3]));
  }
  assert.ok(modelBytes.size >= 2, `built-in models: ${[...modelBytes.keys()].join(', ')}`);
  for (const [folder, bytes] of modelBytes) assert.ok(bytes <= 25 * 10 ** 6, `model ${folder} of ${(bytes / 10 ** 6).toFixed(1)} MB`);
  assert.ok(statSync(vsix).size < 45 * 2 ** 20, `VSIX of ${(statSync(vsix).size / 2 ** 20).toFixed(1)} MiB`);
});
