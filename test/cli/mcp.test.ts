// `docent mcp` driven by the official MCP SDK client, over stdio and Streamable HTTP, against the
// built binary indexing a copy of examples/docs.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { request } from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Citation } from '../../src/core/pipeline/types.js';
import { CLI_PATH, runDocent } from '../support/cli.js';
import { makeTempDir } from '../support/tempDocs.js';
import { waitUntil } from '../support/waitUntil.js';

const EXAMPLES = path.resolve(__dirname, '../../examples/docs');
// Shares no keyword with its answer's heading ("Scheduled rotation (zero downtime)") but "downtime".
const PARAPHRASE = 'how do I swap out the request-signing credentials without downtime';
const TOKEN = 'test-token-5b1c';

/** search_docs' structured passages have a citation's shape. */
type Passage = Citation;

let docs: string;
let store: string;

before(async () => {
  assert.ok(existsSync(CLI_PATH), 'dist/cli.js missing: run "npm run build" first (npm test does)');
  docs = path.join(await makeTempDir('mcp-docs'), 'docs');
  await fs.cp(EXAMPLES, docs, { recursive: true });
  store = path.join(await makeTempDir('mcp-store'), 'store');
});

const call = async (client: Client, name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;
const textOf = (result: CallToolResult) => result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');

async function fileLines(relative: string, startLine: number, endLine: number): Promise<string> {
  return (await fs.readFile(path.join(docs, relative), 'utf8')).split('\n').slice(startLine - 1, endLine).join('\n');
}

/** What both transports must do the same way. */
async function checkTools(client: Client): Promise<void> {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((tool) => tool.name).sort(), ['ask_docs', 'read_passage', 'search_docs']);
  for (const tool of tools) {
    assert.ok((tool.description ?? '').length > 80, `${tool.name} is described for an agent`);
    assert.ok(tool.outputSchema, `${tool.name} declares its structured output`);
  }

  const search = await call(client, 'search_docs', { query: PARAPHRASE, k: 3 });
  assert.equal(search.isError, undefined);
  const passages = (search.structuredContent as { passages: Passage[] }).passages;
  assert.equal(passages.length, 3);
  const best = passages[0]!;
  assert.equal(best.path, 'runbooks/rotate-signing-keys.md');
  assert.match(best.heading ?? '', /Scheduled rotation \(zero downtime\)/);
  assert.match(textOf(search), new RegExp(`^\\[1\\] runbooks/rotate-signing-keys\\.md:${best.startLine}-${best.endLine} — `));
  // The cited lines hold the passage: its first words are on the first cited line or just after.
  const cited = await fileLines(best.path, best.startLine, best.endLine);
  assert.ok(cited.includes(best.text.split('\n').at(-1)!.trim().slice(0, 30)), 'the passage text lies within its cited lines');

  const read = await call(client, 'read_passage', { path: best.path, startLine: best.startLine, endLine: best.endLine });
  assert.equal(read.isError, undefined);
  assert.deepEqual(read.structuredContent, {
    path: best.path,
    startLine: best.startLine,
    endLine: best.endLine,
    totalLines: (await fs.readFile(path.join(docs, best.path), 'utf8')).trimEnd().split('\n').length,
    text: cited,
    source: 'file',
  });

  for (const outside of ['../store/manifest.json', '/etc/passwd', 'runbooks/../../docs/faq.md', 'runbooks/missing.md']) {
    const refused = await call(client, 'read_passage', { path: outside, startLine: 1, endLine: 3 });
    assert.equal(refused.isError, true, outside);
    assert.match(textOf(refused), /is not an indexed file; use a path from the search results/);
  }
  const pastEnd = await call(client, 'read_passage', { path: best.path, startLine: 100000, endLine: 100001 });
  assert.equal(pastEnd.isError, true);
  assert.match(textOf(pastEnd), /past its end/);

  for (const [name, args, field] of [
    ['search_docs', { query: 42 }, /query/],
    ['search_docs', { query: '   ' }, /query/],
    ['search_docs', { query: 'keys', k: 500 }, /k/],
    ['read_passage', { path: best.path, startLine: 0, endLine: 2 }, /startLine/],
    ['ask_docs', {}, /question/],
  ] as const) {
    const bad = await call(client, name, args);
    assert.equal(bad.isError, true, `${name} ${JSON.stringify(args)}`);
    assert.match(textOf(bad), /Input validation error/);
    assert.match(textOf(bad), field);
  }

  const answer = await call(client, 'ask_docs', { question: PARAPHRASE });
  assert.equal(answer.isError, undefined);
  const structured = answer.structuredContent as { mode: string; citations: { path: string; startLine: number; endLine: number }[] };
  assert.equal(structured.mode, 'retrieval-only');
  const first = structured.citations[0]!;
  assert.equal(first.path, 'runbooks/rotate-signing-keys.md');
  assert.match(textOf(answer), new RegExp(`Sources:\\n\\[1\\] runbooks/rotate-signing-keys\\.md:${first.startLine}-${first.endLine}`));
}

describe('docent mcp over stdio', () => {
  let client: Client;
  let transport: StdioClientTransport;
  const stderr: string[] = [];

  before(async () => {
    transport = new StdioClientTransport({ command: process.execPath, args: [CLI_PATH, 'mcp', '--store', store, '--folder', docs], stderr: 'pipe' });
    transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    client = new Client({ name: 'docent-test', version: '1.0.0' });
    await client.connect(transport);
  });

  after(async () => client.close());

  test('indexes the folder first, then serves the three tools', async () => {
    const ready = /index ready: (\d+) files, (\d+) passages/.exec(stderr.join(''));
    assert.ok(ready && Number(ready[1]) >= 30 && Number(ready[2]) > Number(ready[1]), `indexed before serving: ${stderr.join('')}`);
    await checkTools(client);
  });

  test('keeps the index current while serving: a new file is found', async () => {
    await fs.writeFile(path.join(docs, 'guides', 'quokka.md'), '# Quokka deployments\n\nThe quokka cluster deploys every Tuesday at noon.\n');
    await waitUntil('the new file to be indexed', async () => {
      const result = await call(client, 'search_docs', { query: 'quokka cluster deploys', k: 1 });
      return (result.structuredContent as { passages: Passage[] }).passages[0]?.path === 'guides/quokka.md';
    });
    const read = await call(client, 'read_passage', { path: 'guides/quokka.md', startLine: 3, endLine: 3 });
    assert.equal((read.structuredContent as { text: string }).text, 'The quokka cluster deploys every Tuesday at noon.');
    // The watcher hands the changed path to a changed-paths update: a deleted file leaves the index.
    await fs.rm(path.join(docs, 'guides', 'quokka.md'));
    await waitUntil('the deleted file to leave the index', async () => {
      const result = await call(client, 'search_docs', { query: 'quokka cluster deploys', k: 3 });
      return !(result.structuredContent as { passages: Passage[] }).passages.some((passage) => passage.path === 'guides/quokka.md');
    });
  });
});

describe('docent mcp over Streamable HTTP', () => {
  let server: ChildProcess;
  let url: URL;

  before(async () => {
    // The store exists now (the stdio suite built it): indexing first finds nothing changed.
    server = spawn(process.execPath, [CLI_PATH, 'mcp', '--store', store, '--folder', docs, '--http', '--port', '0', '--token-env', 'DOCENT_TEST_MCP_TOKEN'], {
      env: { ...process.env, DOCENT_TEST_MCP_TOKEN: TOKEN },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    url = await new Promise<URL>((resolve, reject) => {
      server.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /serving (http:\/\/127\.0\.0\.1:\d+\/mcp) \(bearer token required\)/.exec(stderr);
        if (match) resolve(new URL(match[1]!));
      });
      server.once('exit', (code) => reject(new Error(`docent mcp exited ${code}: ${stderr}`)));
    });
  });

  after(async () => {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGINT');
    await exited;
  });

  test('the SDK client with the token gets the same tools and answers', async () => {
    const client = new Client({ name: 'docent-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
    try {
      await checkTools(client);
    } finally {
      await client.close();
    }
  });

  test('the SDK client without the token is refused', async () => {
    const client = new Client({ name: 'docent-test', version: '1.0.0' });
    await assert.rejects(client.connect(new StreamableHTTPClientTransport(url)), /401|token/i);
  });

  test('foreign Host and Origin headers, a wrong token, other paths and GET are refused', async () => {
    const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${TOKEN}` };
    const cases: [string, Record<string, string>, string, number, RegExp][] = [
      ['POST', { ...headers, Host: `rebound.example:${url.port}` }, '/mcp', 403, /Host "rebound\.example:\d+" is not allowed/],
      ['POST', { ...headers, Origin: 'https://evil.example' }, '/mcp', 403, /Origin "https:\/\/evil\.example" is not allowed/],
      ['POST', { ...headers, Authorization: 'Bearer wrong' }, '/mcp', 401, /bearer token/],
      ['POST', headers, '/other', 404, /the MCP endpoint is \/mcp/],
      ['GET', headers, '/mcp', 405, /POST only/],
      ['POST', { ...headers, Origin: `http://localhost:${url.port}` }, '/mcp', 200, /"serverInfo":\{"name":"docent"/],
    ];
    for (const [method, sent, pathname, status, body] of cases) {
      const response = await rawRequest(method, url.port, pathname, sent, method === 'POST' ? initialize : undefined);
      assert.equal(response.status, status, `${method} ${pathname} ${JSON.stringify(sent)}`);
      assert.match(status === 200 ? response.body : JSON.parse(response.body).error.message, body);
    }
  });
});

test('mcp argument errors exit 2 with one line', async () => {
  for (const [args, message] of [
    [['mcp'], /--store <dir> is required/],
    [['mcp', '--store', '/tmp/x', '--port', '9000'], /--port and --token-env go with --http/],
    [['mcp', '--store', '/tmp/x', '--http', '--token-env', 'DOCENT_UNSET_VARIABLE_FOR_TEST'], /DOCENT_UNSET_VARIABLE_FOR_TEST: that environment variable is empty or unset/],
    [['mcp', '--store', '/tmp/x', '--http', '--port', '70000'], /--port must be an integer from 0 to 65535/],
    [['mcp', '--store', '/tmp/x', '--endpoint', 'http://127.0.0.1:1/v1'], /--endpoint and --model go together/],
  ] as const) {
    const result = await runDocent([...args]);
    assert.equal(result.code, 2, args.join(' '));
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 1);
  }
});

/** node:http, because fetch will not send a Host header of the caller's choosing. */
function rawRequest(method: string, port: string, pathname: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: Number(port), path: pathname, method, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.once('error', reject);
    req.end(body);
  });
}
