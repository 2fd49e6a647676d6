/**
 * Docent's MCP server (`docent mcp`): three tools over a Workspace, on the official SDK, for an
 * agent to search the team's docs, read exact lines of an indexed file, and ask for a cited
 * answer. Served over stdio or Streamable HTTP; the HTTP server listens on 127.0.0.1 only,
 * refuses foreign Host and Origin headers (DNS rebinding, web pages) and, with a token, any
 * request without it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import type { LocatedCitation } from '../core/pipeline/types.js';
import { MAX_PASSAGE_LINES, type Workspace, type WorkspaceAnswer } from '../core/workspace/workspace.js';

export const MCP_DEFAULT_K = 8;
export const MCP_MAX_K = 50;
export const MCP_HTTP_PATH = '/mcp';

const passageShape = {
  n: z.number().int().describe('Number of the passage in this list, [n]'),
  path: z.string().describe('File path relative to the indexed folder; pass it to read_passage'),
  startLine: z.number().int(),
  endLine: z.number().int(),
  heading: z.string().optional().describe('Heading path of the section, " › " between levels'),
  text: z.string(),
};

const SEARCH_DESCRIPTION =
  "Search the team's own documentation (the folder Docent indexed) for passages relevant to a question or keywords. " +
  'Use it before answering anything about this project\'s setup, APIs, runbooks, conventions or decisions. ' +
  'Returns numbered passages, best first, each with its location as path:startLine-endLine (1-based, inclusive), its heading and its text. ' +
  'Cite those locations in your answer; call read_passage for more lines around a hit.';

const READ_DESCRIPTION =
  'Read exact lines of a file in the documentation index, e.g. to see the context around a search_docs hit. ' +
  `Only paths that search_docs returned (indexed files) can be read; at most ${MAX_PASSAGE_LINES} lines per call.`;

const ASK_DESCRIPTION =
  "Ask a question about the team's documentation and get a short answer with numbered citations [n] to path:startLine-endLine. " +
  'With no answer model configured, the answer is the most relevant passages themselves. ' +
  'Prefer search_docs when you want to read and reason over the passages yourself.';

/** One MCP server (one client connection) over a shared workspace. */
export function createDocsMcpServer(workspace: Workspace, version: string): McpServer {
  const server = new McpServer({ name: 'docent', version }, { instructions: "Docent answers from this team's own documentation, with exact-line citations." });

  server.registerTool(
    'search_docs',
    {
      title: 'Search the docs',
      description: SEARCH_DESCRIPTION,
      inputSchema: {
        query: z.string().trim().min(1).max(2000).describe('A question or keywords, in natural language'),
        k: z.number().int().min(1).max(MCP_MAX_K).optional().describe(`How many passages (default ${MCP_DEFAULT_K})`),
      },
      outputSchema: { passages: z.array(z.object(passageShape)) },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ query, k }, extra) => {
      const passages = (await workspace.searchPassages(query, { k: k ?? MCP_DEFAULT_K, signal: extra.signal })).map(passageOf);
      const text = passages.length === 0 ? `No passages matched "${query}".` : passages.map(formatPassage).join('\n\n');
      return { content: [{ type: 'text', text }], structuredContent: { passages } };
    },
  );

  server.registerTool(
    'read_passage',
    {
      title: 'Read lines of a doc',
      description: READ_DESCRIPTION,
      inputSchema: {
        path: z.string().min(1).describe('A path as search_docs returned it'),
        startLine: z.number().int().min(1).describe('First line, 1-based'),
        endLine: z.number().int().min(1).describe('Last line, inclusive'),
      },
      outputSchema: {
        path: z.string(),
        startLine: z.number().int(),
        endLine: z.number().int().describe('May be less than asked: the end of the file or the line limit'),
        totalLines: z.number().int(),
        text: z.string(),
        source: z.enum(['file', 'index']).describe("'index': the indexed text, when the server has no access to the folder"),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ path, startLine, endLine }) => {
      const passage = await workspace.readPassage(path, startLine, endLine);
      const text = `${passage.path}:${passage.startLine}-${passage.endLine} (of ${passage.totalLines} lines)\n${passage.text}`;
      return { content: [{ type: 'text', text }], structuredContent: { ...passage } };
    },
  );

  server.registerTool(
    'ask_docs',
    {
      title: 'Ask the docs',
      description: ASK_DESCRIPTION,
      inputSchema: { question: z.string().trim().min(1).max(4000).describe('The question, in natural language') },
      outputSchema: {
        answer: z.string(),
        mode: z.enum(['generated', 'extractive', 'retrieval-only']),
        degradedReason: z.string().optional(),
        citations: z.array(z.object({ n: z.number().int(), path: z.string(), startLine: z.number().int(), endLine: z.number().int(), heading: z.string().optional() })),
        partialIndex: z.object({ state: z.enum(['indexing', 'paused', 'stopped']), filesIndexed: z.number().int(), filesTotal: z.number().int().optional() }).optional(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ question }, extra) => {
      const answer = await workspace.ask({ question, signal: extra.signal });
      return { content: [{ type: 'text', text: formatAnswer(answer) }], structuredContent: answerStructure(answer) };
    },
  );
  return server;
}

/** One store is served, so no passage names a folder. */
function passageOf({ n, path, startLine, endLine, heading, text }: LocatedCitation): z.infer<z.ZodObject<typeof passageShape>> {
  return { n, path, startLine, endLine, ...(heading ? { heading } : {}), text };
}

function formatPassage(passage: ReturnType<typeof passageOf>): string {
  return `[${passage.n}] ${passage.path}:${passage.startLine}-${passage.endLine}${passage.heading ? ` — ${passage.heading}` : ''}\n${passage.text}`;
}

function formatAnswer(answer: WorkspaceAnswer): string {
  const note = answer.degraded && answer.degradedReason ? `\n\n(${answer.degradedReason})` : '';
  const sources = answer.citations.map((citation) => `[${citation.n}] ${citation.path}:${citation.startLine}-${citation.endLine}`).join('\n');
  return `${answer.answer}${note}${sources ? `\n\nSources:\n${sources}` : ''}`;
}

function answerStructure(answer: WorkspaceAnswer) {
  return {
    answer: answer.answer,
    mode: answer.mode,
    ...(answer.degradedReason ? { degradedReason: answer.degradedReason } : {}),
    citations: answer.citations.map(({ n, path, startLine, endLine, heading }) => ({ n, path, startLine, endLine, ...(heading ? { heading } : {}) })),
    ...(answer.partialIndex ? { partialIndex: answer.partialIndex } : {}),
  };
}

export interface McpHttpOptions {
  port: number;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  log: (line: string) => void;
}

export interface McpHttpServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Streamable HTTP, stateless: each POST gets its own server and transport over the shared
 * workspace, so no session state can leak between clients and nothing is kept per client.
 */
export async function startMcpHttpServer(workspace: Workspace, version: string, options: McpHttpOptions): Promise<McpHttpServer> {
  const expectedToken = options.token === undefined ? undefined : digest(options.token);
  const http = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      options.log(`request failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) reply(res, 500, 'internal error');
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, '127.0.0.1', () => resolve((http.address() as AddressInfo).port));
  });
  const allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A page elsewhere can reach 127.0.0.1 through a rebound DNS name or a cross-origin fetch.
    if (!allowedHosts.has(req.headers.host ?? '')) return reply(res, 403, `Host "${req.headers.host ?? ''}" is not allowed`);
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(origin)) return reply(res, 403, `Origin "${origin}" is not allowed`);
    if (expectedToken && !tokenMatches(req.headers.authorization, expectedToken)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return reply(res, 401, 'missing or wrong bearer token');
    }
    if (new URL(req.url ?? '/', 'http://127.0.0.1').pathname !== MCP_HTTP_PATH) return reply(res, 404, `not found; the MCP endpoint is ${MCP_HTTP_PATH}`);
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return reply(res, 405, 'this stateless server takes POST only');
    }
    const server = createDocsMcpServer(workspace, version);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  }

  return {
    url: `http://127.0.0.1:${port}${MCP_HTTP_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** A JSON-RPC error body, as MCP clients expect even for refusals before the protocol. */
function reply(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compared as digests, so the time taken says nothing about the token. */
function tokenMatches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer (.+)$/.exec(header ?? '');
  return !!match && timingSafeEqual(digest(match[1]!), expected);
}
