/**
 * What `docent --help` and `docent <command> --help` print: one entry per command, the same
 * shape for all of them (serve included), so every command documents its options and defaults.
 */
import { EMBEDDER_CHOICES } from '../core/embedding/builtInModels.js';
import { DEVICE_CHOICES } from '../core/onnx/deviceChoice.js';

interface OptionHelp {
  flag: string;
  text: string;
  default?: string;
}

interface CommandHelp {
  summary: string;
  usage: string[];
  description: string;
  options: OptionHelp[];
  examples: string[];
}

const DEVICES = DEVICE_CHOICES.join('|');
const FLAG_COLUMN = 24;

const STORE: OptionHelp = { flag: '--store <dir>', text: 'the store folder (the index on disk); required' };
const JSON_FLAG: OptionHelp = { flag: '--json', text: 'print one JSON object instead of text' };
const DEVICE: OptionHelp = {
  flag: `--device <${DEVICES}>`,
  text: 'where embeddings run; auto tries this platform\'s GPU providers, then the CPU',
  default: 'auto',
};
const DEVICE_ID: OptionHelp = { flag: '--device-id <N>', text: 'which GPU, for CUDA and DirectML (0 to 64)', default: '0' };
const VERBOSE: OptionHelp = { flag: '--verbose', text: 'also say why faster devices were passed over' };
const HELP: OptionHelp = { flag: '-h, --help', text: 'show this help' };

export const COMMAND_HELP = {
  index: {
    summary: 'build or update the index of a folder',
    usage: ['docent index <folder> --store <dir> [options]'],
    description:
      'Indexes the documentation in <folder> (Markdown, MDX, AsciiDoc, reStructuredText, HTML, plain text and the doc ' +
      'comments of source files) into the store folder, creating it when missing. Only added, changed and deleted ' +
      'files are processed; .gitignore and .ignore are honoured, every file left out for its content (too large, binary, ' +
      'a generated page or a second copy of one) is listed on stderr with the reason, and --json lists every skip. Ctrl-C stops at once and the next run continues where it stopped.',
    options: [
      { ...STORE, text: 'the store folder (the index on disk), created when missing; required' },
      { flag: '--include <glob>', text: 'index only files matching this gitignore-style glob (repeatable)' },
      { flag: '--exclude <glob>', text: 'leave out files matching this glob, besides the built-in excludes (repeatable)' },
      {
        flag: '--changed <path>',
        text:
          'only this path changed (a file created, modified or deleted, or a deleted folder; repeatable): judge, read and index it alone, ' +
          'without walking the folder (as a file watcher or a save hook knows). The folder is walked after all when a path decides other ' +
          "files' fate (a folder, an ignore file, a symbolic link, Sphinx source copies) or the last run did not finish",
      },
      { flag: `--embedder <${EMBEDDER_CHOICES}>`, text: 'embedding model: default (the built-in static model: trained, 256-d), static, glove-sif (built-in GloVe-SIF 100-d), hashing, none (keyword search only) or an ONNX sentence-transformers export', default: "the model the store was built with; default for a new store" },
      DEVICE,
      DEVICE_ID,
      JSON_FLAG,
      VERBOSE,
      HELP,
    ],
    examples: [
      'docent index docs --store .docent',
      'docent index . --store .docent --include "docs/**" --exclude "**/drafts/**"',
      'docent index docs --store .docent --changed docs/setup.md --changed docs/old-page.md',
    ],
  },
  query: {
    summary: 'print the passages that best match a query',
    usage: ['docent query "<text>" --store <dir> [options]', 'docent query --batch <file|-> --store <dir> [options]'],
    description:
      'Searches the store with the hybrid keyword and embedding retriever and prints the best passages first, each ' +
      'with its file, 1-based inclusive line range, heading and score. With --batch, every non-empty line of the file ' +
      '(or of stdin for "-") is one query and the store is loaded once; with --json each query prints one line.',
    options: [
      STORE,
      { flag: '--k <N>', text: 'how many passages (1 to 1000)', default: '10' },
      { flag: '--batch <file|->', text: 'one query per line instead of one query argument' },
      { flag: '--mode <keyword|dense|hybrid>', text: 'BM25F only, the embedding index only, or both fused', default: 'hybrid' },
      { flag: '--explain', text: "print each hit's score parts (passage BM25F, page evidence, dense cosine, ranks, fusion)" },
      DEVICE,
      DEVICE_ID,
      JSON_FLAG,
      HELP,
    ],
    examples: [
      'docent query "How do I rotate the API signing keys?" --store .docent --k 3',
      'docent query "unbuffered output" --store .docent --mode dense --explain',
      'docent query --batch questions.txt --store .docent --json',
    ],
  },
  ask: {
    summary: 'answer a question with numbered citations',
    usage: ['docent ask "<question>" --store <dir> [options]'],
    description:
      'Answers from the indexed documents: with --endpoint and --model the answer is generated by that OpenAI-compatible ' +
      'server (docent serve, vLLM, ...) and streamed, then a numbered Sources list follows; without them the answer is ' +
      'the most relevant passages themselves. The API key, if the server needs one, is read from DOCENT_API_KEY, never ' +
      'from a flag. Answers are cached in the store folder and reused until a cited file changes.',
    options: [
      STORE,
      { flag: '--endpoint <url>', text: 'base URL of the answer server, e.g. http://127.0.0.1:8123/v1 (goes with --model)' },
      { flag: '--model <name>', text: 'model name sent to the server (goes with --endpoint)' },
      { flag: '--k <N>', text: 'passages retrieved for the question (1 to 1000)', default: '8' },
      DEVICE,
      DEVICE_ID,
      JSON_FLAG,
      HELP,
    ],
    examples: ['docent ask "How do I rotate the signing keys?" --store .docent', 'DOCENT_API_KEY=... docent ask "Why does E1005 happen?" --store .docent --endpoint http://127.0.0.1:8123/v1 --model qwen2.5'],
  },
  info: {
    summary: 'describe a store: size, model, device, completeness',
    usage: ['docent info --store <dir> [options]'],
    description:
      'Prints what a store holds: files, passages and generation, the embedding model and its dimensions, the device ' +
      'the last index run used and its embedding throughput, and whether the last index run finished. It loads no model, ' +
      'so it also works when the store\'s model is gone.',
    options: [STORE, JSON_FLAG, VERBOSE, HELP],
    examples: ['docent info --store .docent'],
  },
  model: {
    summary: 'download an embedding model (model pull)',
    usage: ['docent model pull <owner/name> [options]'],
    description:
      'Downloads a sentence-transformers ONNX export from the Hugging Face hub into the model cache (resumable; sizes and ' +
      'hashes are checked) and prints its folder, to use with `docent index --embedder <folder>`. A hub mirror is used ' +
      'when DOCENT_HF_ENDPOINT is set.',
    options: [
      { flag: '--cache <dir>', text: 'model cache folder', default: '$DOCENT_MODEL_CACHE, else ~/.cache/docent/models' },
      { flag: '--revision <rev>', text: 'branch, tag or commit of the repository', default: 'main' },
      { flag: '--endpoint <url>', text: 'hub address', default: '$DOCENT_HF_ENDPOINT, else https://huggingface.co' },
      HELP,
    ],
    examples: ['docent model pull sentence-transformers/all-MiniLM-L6-v2'],
  },
  mcp: {
    summary: 'serve the docs to MCP clients (Claude Code, Cursor, Copilot agent mode)',
    usage: ['docent mcp --store <dir> [--folder <docs>] [--http [--port 8124] [--token-env NAME]]'],
    description:
      'Runs a Model Context Protocol server with three tools: search_docs (numbered passages with path:lines), ' +
      'read_passage (lines of an indexed file) and ask_docs (an answer with citations, from --endpoint or retrieval-only). ' +
      'It speaks over stdio unless --http is given; over HTTP it listens on 127.0.0.1 only, checks Host and Origin, ' +
      'and requires "Authorization: Bearer <token>" when --token-env names a variable holding the token. ' +
      'With --folder the folder is indexed first and re-indexed as its files change.',
    options: [
      STORE,
      { flag: '--folder <docs>', text: 'index this folder into the store first and keep it current while serving' },
      { flag: '--http', text: 'serve Streamable HTTP at http://127.0.0.1:<port>/mcp instead of stdio' },
      { flag: '--port <N>', text: 'TCP port with --http (0 picks a free one)', default: '8124' },
      { flag: '--token-env <NAME>', text: 'with --http, require this environment variable\'s value as a bearer token' },
      { flag: '--endpoint <url>', text: 'answer server for ask_docs (goes with --model); without it ask_docs answers retrieval-only' },
      { flag: '--model <name>', text: 'model name sent to the answer server (goes with --endpoint)' },
      { flag: '--embedder <choice>', text: 'embedding model for a new store built with --folder', default: 'default' },
      DEVICE,
      DEVICE_ID,
      HELP,
    ],
    examples: ['docent mcp --store .docent --folder docs', 'DOCENT_MCP_TOKEN=s3cret docent mcp --store .docent --http --port 8124 --token-env DOCENT_MCP_TOKEN'],
  },
  serve: {
    summary: 'run the local OpenAI-compatible answer server',
    usage: ['docent serve --model <dir> [options]'],
    description:
      'Loads an ONNX decoder export and serves /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models, ' +
      '/health and /metrics with continuous batching until SIGTERM or Ctrl-C, then finishes the requests in flight. ' +
      'It listens on 127.0.0.1 unless --host says otherwise. Docent: Start Local Server runs it for the extension.',
    options: [
      { flag: '--model <dir>', text: 'folder of an ONNX decoder export (optimum or onnxruntime-genai) with its tokenizer.json; required' },
      { flag: '--embedding-model <default|dir>', text: 'also serve /v1/embeddings with this embedding model' },
      { flag: '--port <N>', text: 'TCP port (0 picks a free one)', default: '8123' },
      { flag: '--host <address>', text: 'address to listen on; with 0.0.0.0 or :: the Host header may be any address of this machine', default: '127.0.0.1' },
      { flag: '--allow-host <name>', text: 'also accept this Host header (a reverse proxy\'s name, bare or name:port; repeatable); any other Host gets 403' },
      { ...DEVICE, text: 'where the decoder runs; auto tries this platform\'s GPU providers, then the CPU' },
      DEVICE_ID,
      { flag: '--max-batch <N>', text: 'sequences decoded together (1 to 1024)', default: '16' },
      { flag: '--threads <N>', text: 'onnxruntime intra-op threads', default: 'one per physical core' },
      { flag: '--api-key-env <NAME>', text: 'require "Authorization: Bearer <key>" with the key read from this environment variable' },
      VERBOSE,
      HELP,
    ],
    examples: ['docent serve --model ~/models/qwen2.5-0.5b-instruct --port 8123'],
  },
} satisfies Record<string, CommandHelp>;

export type CommandName = keyof typeof COMMAND_HELP;

export function isCommandName(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMAND_HELP, name);
}

export function commandHelp(name: CommandName): string {
  const help: CommandHelp = COMMAND_HELP[name];
  // A flag longer than the column puts its text on the next line.
  const width = Math.min(FLAG_COLUMN, Math.max(...help.options.map((option) => option.flag.length)));
  const options = help.options.map((option) => {
    const text = `${option.text}${option.default ? ` (default: ${option.default})` : ''}`;
    return option.flag.length > width ? `  ${option.flag}\n  ${' '.repeat(width)}  ${text}` : `  ${option.flag.padEnd(width)}  ${text}`;
  });
  return [
    `docent ${name}: ${help.summary}`,
    '',
    'usage:',
    ...help.usage.map((line) => `  ${line}`),
    '',
    ...wrap(help.description, 96),
    '',
    'options:',
    ...options,
    '',
    help.examples.length > 1 ? 'examples:' : 'example:',
    ...help.examples.map((line) => `  ${line}`),
    '',
  ].join('\n');
}

export function topLevelHelp(version: string): string {
  const names = Object.keys(COMMAND_HELP) as CommandName[];
  const width = Math.max(...names.map((name) => name.length));
  return [
    `docent ${version}: answers questions about your documentation, with citations to the exact lines`,
    '',
    'usage: docent <command> [options]',
    '',
    'commands:',
    ...names.map((name) => `  ${name.padEnd(width)}  ${COMMAND_HELP[name].summary}`),
    '',
    'Run "docent <command> --help" for a command\'s options and an example; "docent --version" prints the version.',
    '',
    'example:',
    '  docent index docs --store .docent && docent ask "How do I rotate the signing keys?" --store .docent',
    '',
  ].join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
