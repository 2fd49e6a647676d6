import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { runCli } from '../../src/cli/main.js';
import { CLI_PATH, runDocent } from '../support/cli.js';
import { generatedPages, makeTempDir, writeTree } from '../support/tempDocs.js';

const COMMANDS = ['index', 'query', 'ask', 'info', 'model', 'serve'];
const VERSION = (JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;

/** runCli in this process, as bin.ts calls it, with stdout and stderr captured. */
async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

let docs: string;
let store: string;

before(async () => {
  assert.ok(existsSync(CLI_PATH), 'dist/cli.js missing: run "npm run build" first (npm test does)');
  docs = await makeTempDir('usage-docs');
  await writeTree(docs, generatedPages(3));
  store = path.join(await makeTempDir('usage-store'), 'store');
  assert.equal((await cli('index', docs, '--store', store, '--json')).code, 0);
});

test('the binary: --version prints the package version, --help lists every command with what it does', async () => {
  const version = await runDocent(['--version']);
  assert.equal(version.code, 0);
  assert.equal(version.stdout, `docent ${VERSION}\n`);
  const help = await runDocent(['--help']);
  assert.equal(help.code, 0);
  for (const command of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${command} +\\S.{10,}$`, 'm'), `a described line for ${command}`);
  assert.match(help.stdout, /docent <command> --help/);
  assert.equal(help.stderr, '');
});

test('every command has --help and -h: a description, each option with its default, an example; exit 0', async () => {
  for (const command of COMMANDS) {
    for (const flag of ['--help', '-h']) {
      const { code, stdout, stderr } = await cli(command, flag);
      assert.equal(code, 0, `${command} ${flag}`);
      assert.equal(stderr, '');
      assert.match(stdout, new RegExp(`^docent ${command}: \\S`), 'a one-line summary first');
      assert.match(stdout, /\nusage:\n {2}docent /);
      assert.match(stdout, /\n\n[A-Z][^\n]+\n(?:[^\n]+\n)*[^\n]+\.\n\noptions:/, 'a paragraph of description');
      assert.match(stdout, /\noptions:\n(?: {2}\S.*\n)+/);
      assert.match(stdout, /-h, --help/);
      assert.match(stdout, /\nexamples?:\n {2}(?:\S+=\S+ )?docent /, 'an example');
      // Quotes balance (an earlier help text was an error message with an unbalanced quote).
      assert.equal((stdout.match(/"/g) ?? []).length % 2, 0, `balanced quotes in ${command} --help`);
    }
  }
  const query = (await cli('query', '--help')).stdout;
  assert.match(query, /--k <N> +how many passages \(1 to 1000\) \(default: 10\)/);
  assert.match(query, /--batch <file\|->/);
  assert.match((await cli('ask', '-h')).stdout, /--k <N> .*\(default: 8\)/);
  assert.match((await cli('serve', '--help')).stdout, /--port <N> .*\(default: 8123\)[\s\S]*--host <address> .*\(default: 127\.0\.0\.1\)[\s\S]*--max-batch <N> .*\(default: 16\)/);
  assert.match((await cli('index', '--help')).stdout, /--device <auto\|cpu\|cuda\|webgpu\|dml\|coreml>\n +where embeddings run.*\(default: auto\)/);
  // Help is help wherever it appears, even beside other arguments; "docent help <command>" is the same text.
  assert.equal((await cli('query', 'some words', '--store', store, '-h')).stdout, query);
  assert.equal((await cli('help', 'query')).stdout, query);
  assert.equal((await cli('help')).stdout, (await cli('--help')).stdout);
});

test('usage and input errors exit 2 with one line that names the fix', async () => {
  const file = path.join(docs, 'section-0', 'page-0.md');
  const cases: Array<[string[], RegExp]> = [
    [['frobnicate'], /unknown command "frobnicate" \(run "docent --help"\)/],
    [['help', 'frobnicate'], /unknown command "frobnicate"/],
    [['index', '/nonexistent/docs', '--store', store], /no folder at \/nonexistent\/docs: give an existing folder to index/],
    [['index', file, '--store', store], /page-0\.md is a file, not a folder: give the folder that holds it \(e\.g\. .*section-0\)/],
    [['index', '', '--store', store], /the folder to index is empty/],
    [['index', docs], /--store <dir> is required/],
    [['index', '--store', store], /index takes exactly one folder: docent index <folder> --store <dir>/],
    [['index', docs, '--store', store, '--device-id', 'x'], /--device-id must be an integer from 0 to 64, got "x"/],
    [['index', docs, '--store', store, '--embedder', '/no/such/model'], /unknown embedder "\/no\/such\/model"/],
    [['query', '', '--store', store], /the query is empty: give the words to search for/],
    [['query', '   ', '--store', store], /the query is empty/],
    [['query', 'x', '--store', store, '--k', '0'], /--k must be an integer from 1 to 1000, got "0"/],
    [['query', 'x', '--store', store, '--k', '-3'], /--k must be an integer from 1 to 1000, got "-3"/],
    [['query', 'x', '--store', store, '--k', '2.5'], /--k must be an integer from 1 to 1000, got "2\.5"/],
    [['query', 'x', '--store', store, '--k', '1001'], /--k must be an integer from 1 to 1000/],
    [['query', 'x', '--store', store, '--k'], /--k needs a value/],
    [['query', 'x', '--store', store, '--frob'], /unknown argument "--frob"/],
    [['query', 'x', '--batch', 'f', '--store', store], /give either a query or --batch <file>, not both/],
    [['query', '--store', store], /query takes exactly one quoted query \(or --batch <file>\)/],
    [['query', 'x', '--store', path.join(docs, 'no-store')], /no Docent store/],
    [['ask', '', '--store', store], /the question is empty: give it in quotes/],
    [['ask', '  \t ', '--store', store], /the question is empty/],
    [['ask', 'q', '--store', store, '--k', 'ten'], /--k must be an integer from 1 to 1000, got "ten"/],
    [['ask', 'q', '--store', store, '--endpoint', 'http://127.0.0.1:1/v1'], /--endpoint and --model go together/],
    [['info'], /--store <dir> is required/],
    [['info', 'extra', '--store', store], /info takes no positional arguments/],
    [['model'], /model needs an action: docent model pull <owner\/name>/],
    [['model', 'push', 'a/b'], /unknown model action "push"/],
    [['model', 'pull'], /exactly one Hugging Face repo id/],
    [['serve', '--port', '1'], /--model <dir> is required/],
  ];
  for (const [argv, message] of cases) {
    const { code, stdout, stderr } = await cli(...argv);
    const shown = argv.map((arg) => JSON.stringify(arg)).join(' ');
    assert.equal(code, 2, `exit code of ${shown}: ${stderr}`);
    assert.match(stderr, message, shown);
    assert.equal(stderr.trimEnd().split('\n').length, 1, `one line for ${shown}: ${stderr}`);
    assert.match(stderr, /--help"\)\n$|no Docent store/, `the line says where to read more: ${stderr}`);
    assert.equal(stdout, '', shown);
  }
});

test('the binary: a missing folder, a file and an empty question exit 2 with one line and no stack', async () => {
  for (const argv of [
    ['index', '/nonexistent', '--store', store],
    ['index', path.join(docs, 'section-0', 'page-0.md'), '--store', store],
    ['ask', '', '--store', store],
    ['query', '', '--store', store],
  ]) {
    const { code, stderr } = await runDocent(argv);
    assert.equal(code, 2, `${argv.join(' ')}: ${stderr}`);
    assert.doesNotMatch(stderr, /unexpected error|\n\s+at /);
    assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
  }
  const bare = await runDocent([]);
  assert.equal(bare.code, 2, 'no command is a usage error');
  assert.equal(bare.stdout, '');
  assert.match(bare.stderr, /usage: docent <command>/);
});

test('query --batch without --json prints each query and its passages as text', async () => {
  const batch = path.join(await makeTempDir('usage-batch'), 'queries.txt');
  await writeTree(path.dirname(batch), { 'queries.txt': 'configure replication\n\nerror E1002 indexing\n' });
  const { code, stdout } = await cli('query', '--batch', batch, '--store', store, '--k', '1');
  assert.equal(code, 0);
  assert.match(stdout, /^== configure replication\n1\. section-0\/page-0\.md:\d+-\d+ — Page 0: replication › Configure replication /);
  assert.match(stdout, /\n\n== error E1002 indexing\n1\. section-2\/page-2\.md:\d+-\d+/);
  assert.equal((stdout.match(/^1 passages in /gm) ?? []).length, 2);
});
