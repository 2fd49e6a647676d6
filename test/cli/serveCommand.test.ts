import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import OpenAI from 'openai';
import { parseServeArguments, runServeCommand } from '../../src/cli/serveCommand.js';
import { CLI_PATH } from '../support/cli.js';
import { modelDir, SMALL_DECODER } from '../generation/testModels.js';

function capture(): { write(text: string): boolean; text: string } {
  return {
    text: '',
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

test('bad arguments exit with code 2 and one clear stderr line', async () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /--model <dir> is required/],
    [['--model'], /--model needs a value/],
    [['--model', 'm', '--port', 'eighty'], /--port must be an integer/],
    [['--model', 'm', '--port', '70000'], /--port must be an integer from 0 to 65535/],
    [['--model', 'm', '--device', 'tpu'], /--device must be one of auto, cpu, cuda, webgpu, dml, coreml/],
    [['--model', 'm', '--device-id', '99'], /--device-id must be an integer from 0 to 64/],
    [['--model', 'm', '--max-batch', '0'], /--max-batch must be an integer/],
    [['--model', 'm', '--threads', '0'], /--threads must be an integer from 1/],
    [['--model', 'm', '--frobnicate'], /unknown argument "--frobnicate"/],
    [['--model', 'm', '--api-key-env', 'DOCENT_TEST_UNSET_KEY'], /DOCENT_TEST_UNSET_KEY: that environment variable is not set/],
    [['--model', 'm', '--allow-host', 'https://llm.example.com/'], /--allow-host "https:\/\/llm.example.com\/": give the Host a client sends/],
    [['--model', 'm', '--allow-host', '*'], /no scheme, path or wildcard/],
  ];
  for (const [argv, message] of cases) {
    const stdout = capture();
    const stderr = capture();
    assert.equal(await runServeCommand(argv, { stdout, stderr }), 2, argv.join(' '));
    assert.match(stderr.text, message);
    assert.equal(stderr.text.trimEnd().split('\n').length, 1, 'exactly one line');
    assert.ok(stderr.text.startsWith('docent serve: '));
    assert.equal(stdout.text, '');
  }
});

test('--allow-host is repeatable and keeps each name as the Host a client sends', () => {
  const args = parseServeArguments(['--model', 'm', '--allow-host', 'LLM.example.com', '--allow-host', 'llm.example.com:8443', '--allow-host', '[fd00::1]:80']);
  assert.deepEqual(args.allowHosts, ['llm.example.com', 'llm.example.com:8443', '[fd00::1]:80']);
  assert.deepEqual(parseServeArguments(['--model', 'm']).allowHosts, []);
});

test('a missing model folder exits 1 with the reason', async () => {
  const stderr = capture();
  assert.equal(await runServeCommand(['--model', '/nonexistent/model-dir', '--port', '0'], { stdout: capture(), stderr }), 1);
  assert.match(stderr.text, /model folder not found/);
});

test('docent serve in its own process: logs device and URL, serves chat and embeddings, drains on SIGTERM and exits 0', async () => {
  const dir = await modelDir('optimum-fp32', SMALL_DECODER);
  assert.ok(existsSync(CLI_PATH), 'dist/cli.js missing: run "npm run build" first (npm test does)');
  const child = spawn(process.execPath, [CLI_PATH, 'serve', '--model', dir, '--port', '0', '--device', 'cpu', '--max-batch', '4', '--threads', '1', '--api-key-env', 'DOCENT_TEST_KEY', '--embedding-model', 'default'], {
    env: { ...process.env, DOCENT_TEST_KEY: 'k1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${stderr}`)));
  });
  assert.match(stdout, /model optimum-fp32 on CPU/);
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'k1', maxRetries: 0 });
  // /v1/embeddings runs the default (static) embedder: related texts are closer than unrelated ones.
  const embeddingModel = (await client.models.list()).data.map((model) => model.id).find((id) => id.startsWith('docent-static-'));
  assert.ok(embeddingModel, '/v1/models lists the embedding model');
  const embeddings = await client.embeddings.create({ model: embeddingModel, input: ['rotate the signing keys', 'key rotation procedure', 'bake a chocolate cake'] });
  const [a, b, c] = embeddings.data.map((item) => item.embedding);
  const dot = (x: number[], y: number[]) => x.reduce((sum, value, i) => sum + value * y[i]!, 0);
  assert.equal(a!.length, 256);
  assert.ok(dot(a!, b!) > dot(a!, c!), 'related texts are closer');

  const stream = await client.completions.create({ model: 'optimum-fp32', prompt: 'hello', max_tokens: 120, temperature: 0, stream: true, ignore_eos: true } as OpenAI.CompletionCreateParamsStreaming);
  let chunks = 0;
  let finish: string | null = null;
  for await (const chunk of stream) {
    if (chunks++ === 0) child.kill('SIGTERM'); // mid-stream: the stream must still finish
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(finish, 'length');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, stderr);
  assert.match(stdout, /SIGTERM, finishing in-flight requests/);
  assert.match(stdout, /stopped/);
});
