/**
 * The extension's local server supervisor (src/extension/localServer.ts, which needs no vscode)
 * against the real built CLI: `docent serve` on a generated decoder is killed as a crash would
 * kill it, and must come back on its own, with a growing backoff, until it is stopped.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalServer, MAX_FAILED_STARTS, serveEnvironment, type LocalServerEvents } from '../../src/extension/localServer.js';
import { CLI_PATH } from '../support/cli.js';
import { writeDecoderFolder } from '../support/decoderModel.js';
import { waitUntil } from '../support/waitUntil.js';

const skip = existsSync(CLI_PATH) ? false : `${CLI_PATH} is missing (npm run build)`;

describe('LocalServer restarts a crashed docent serve with backoff', { skip, timeout: 120_000 }, () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'docent-local-server-'));
  const modelDir = path.join(scratch, 'tiny-decoder');
  before(() => writeDecoderFolder(modelDir, { layers: 1, hidden: 32, heads: 2, vocab: 300, seed: 5 }));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('a killed server comes back, each crash waits longer, and stop() ends it for good', async () => {
    const warnings: string[] = [];
    let ready = 0;
    const crashes: string[] = [];
    const events: LocalServerEvents = { stateChanged: () => {}, ready: () => ready++, crashed: (cause) => crashes.push(cause), gaveUp: () => assert.fail('two crashes are not a crash loop') };
    const server = new LocalServer(path.dirname(CLI_PATH), { info: () => {}, warn: (message) => warnings.push(message) }, events);
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const answers = async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { Authorization: `Bearer ${server.apiKey}` } })).ok;
      } catch {
        return false;
      }
    };
    try {
      server.start(modelDir, port);
      await waitUntil('the first start', () => ready === 1);
      assert.ok(await answers());
      // The session key is required: another local process without it is refused.
      assert.ok(server.apiKey.length >= 32);
      assert.equal((await fetch(`http://127.0.0.1:${port}/v1/models`)).status, 401);

      const first = server.pid!;
      process.kill(first, 'SIGKILL');
      await waitUntil('a restart after the first crash', () => ready === 2);
      assert.notEqual(server.pid, first, 'a new process serves');
      assert.ok(await answers(), 'the restarted server answers');
      assert.match(warnings.at(-1) ?? '', /exited \(code none, signal SIGKILL\); restarting in 1 s$/);
      assert.deepEqual(crashes, ['it exited with signal SIGKILL'], 'a crash of a ready server is reported with its cause');

      process.kill(server.pid!, 'SIGKILL');
      await waitUntil('a restart after the second crash', () => ready === 3);
      assert.match(warnings.at(-1) ?? '', /restarting in 2 s$/, 'the backoff doubles while crashes follow each other');

      const last = server.pid!;
      server.stop();
      assert.equal(server.running, false);
      await waitUntil('the stopped server to exit', async () => !(await answers()));
      // A stop is not a crash: nothing restarts it.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(server.running, false);
      assert.equal(ready, 3);
      assert.throws(() => process.kill(last, 0), { code: 'ESRCH' }, 'the last server process is gone');
    } finally {
      server.stop();
    }
  });

  // bench:soak measured RSS growth over 2,000 requests with and without these two settings.
  test('the server runs with two malloc arenas and 2 MB V8 semi-spaces; a MALLOC_ARENA_MAX of the user wins', { skip: process.platform === 'linux' ? false : 'reads /proc/<pid>' }, async () => {
    let ready = 0;
    const events: LocalServerEvents = { stateChanged: () => {}, ready: () => ready++, crashed: () => {}, gaveUp: () => assert.fail('the server did not start') };
    const server = new LocalServer(path.dirname(CLI_PATH), { info: () => {}, warn: () => {} }, events);
    try {
      server.start(modelDir, 20_000 + Math.floor(Math.random() * 20_000));
      await waitUntil('the server to start', () => ready === 1);
      const environment = readFileSync(`/proc/${server.pid}/environ`, 'utf8').split('\0');
      const argv = readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0');
      assert.ok(environment.includes(`MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? '2'}`), 'the arena cap is in the server environment');
      assert.ok(argv.indexOf('--max-semi-space-size=2') >= 1 && argv.indexOf('--max-semi-space-size=2') < argv.findIndex((arg) => arg.endsWith('cli.js')), 'the V8 flag comes before the script, where node reads it');
    } finally {
      server.stop();
    }
    assert.equal(serveEnvironment({ MALLOC_ARENA_MAX: '4', PATH: '/bin' }).MALLOC_ARENA_MAX, '4');
    assert.equal(serveEnvironment({ PATH: '/bin' }).MALLOC_ARENA_MAX, '2');
  });

  test('a server that cannot start (wrong model folder) is tried a few times, then given up with its own message as the cause', async () => {
    const missing = path.join(scratch, 'no-such-model');
    let gaveUp: { cause: string; attempts: number } | undefined;
    let ready = 0;
    const events: LocalServerEvents = {
      stateChanged: () => {},
      ready: () => ready++,
      crashed: () => assert.fail('a server that never got ready did not crash, it failed to start'),
      gaveUp: (cause, attempts) => (gaveUp = { cause, attempts }),
    };
    const server = new LocalServer(path.dirname(CLI_PATH), { info: () => {}, warn: () => {} }, events);
    server.start(missing, 20_000 + Math.floor(Math.random() * 20_000));
    await waitUntil('the supervisor to give up', () => gaveUp !== undefined, 60_000);
    assert.equal(gaveUp!.attempts, MAX_FAILED_STARTS);
    assert.equal(gaveUp!.cause, `cannot load model from ${missing}: model folder not found: ${missing}`);
    assert.equal(server.running, false);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(server.running, false, 'nothing restarts it after giving up');
    assert.equal(ready, 0);
  });
});
