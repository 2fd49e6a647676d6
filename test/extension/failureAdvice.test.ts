import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adviceFor, type AdviceContext } from '../../src/extension/failureAdvice.js';

const remote: AdviceContext = { backend: 'remote', model: 'llama-3', firstTokenTimeoutSeconds: 20 };
const local: AdviceContext = { backend: 'local', firstTokenTimeoutSeconds: 45, localPort: 8123 };

test('Set API key is offered for 401 and 403 only', () => {
  assert.deepEqual(adviceFor({ kind: 'rejected', status: 401 }, remote).actions, ['setApiKey', 'retry']);
  assert.deepEqual(adviceFor({ kind: 'rejected', status: 403 }, remote).actions, ['setApiKey', 'retry']);
  for (const cause of [{ kind: 'unreachable' }, { kind: 'timeout' }, { kind: 'rate-limited', status: 429 }, { kind: 'server-error', status: 503 }, { kind: 'rejected', status: 404 }, undefined] as const) {
    assert.ok(!adviceFor(cause, remote).actions.includes('setApiKey'), `no API key for ${JSON.stringify(cause)}`);
  }
});

test('each failure gets its own fix', () => {
  assert.deepEqual(adviceFor({ kind: 'unreachable' }, local), { hint: 'Nothing answers on 127.0.0.1:8123: start the local server.', actions: ['startLocalServer', 'retry'] });
  assert.deepEqual(adviceFor({ kind: 'unreachable' }, remote).actions, ['configureEndpoint', 'retry']);
  assert.match(adviceFor({ kind: 'timeout' }, local).hint, /within 45 s/);
  assert.deepEqual(adviceFor({ kind: 'timeout' }, local).actions, ['retry', 'openTimeoutSetting']);
  assert.deepEqual(adviceFor({ kind: 'rejected', status: 404 }, remote), { hint: 'The endpoint does not serve "llama-3": pick one of its models.', actions: ['configureBackend', 'retry'] });
  assert.deepEqual(adviceFor({ kind: 'rate-limited', status: 429 }, remote).actions, ['retry']);
  assert.deepEqual(adviceFor({ kind: 'server-error', status: 500 }, local).actions, ['retry', 'showLog']);
});
