/**
 * The `#docs` language-model tool (contributes.languageModelTools): agent mode, or any extension
 * through vscode.lm.invokeTool, searches the workspace's docs and gets numbered passages with
 * their exact lines. The search runs in the core process.
 */
import * as vscode from 'vscode';
import type { CoreProcessClient } from './coreProcess/client.js';
import { citationLabel } from './citationLocation.js';

/** The tool's name in package.json's languageModelTools. */
export const DOCS_TOOL_NAME = 'docent_searchDocs';
const DEFAULT_K = 6;
const MAX_K = 20;

interface DocsToolInput {
  query: string;
  k?: number;
}

/** The model's input is checked here too: a schema is a request to the model, not a guarantee. */
function checkedInput(input: unknown): { query: string; k: number } {
  const { query, k } = (input ?? {}) as Partial<DocsToolInput>;
  if (typeof query !== 'string' || !query.trim()) throw new Error('The docs tool needs "query": the question or keywords to search the docs for.');
  if (k !== undefined && (!Number.isInteger(k) || k < 1 || k > MAX_K)) throw new Error(`"k" must be a whole number from 1 to ${MAX_K}.`);
  return { query: query.trim(), k: k ?? DEFAULT_K };
}

export function registerDocsTool(core: () => CoreProcessClient): vscode.Disposable {
  return vscode.lm.registerTool<DocsToolInput>(DOCS_TOOL_NAME, {
    prepareInvocation: (options) => ({ invocationMessage: `Searching the docs for "${String(options.input?.query ?? '')}"` }),
    async invoke(options) {
      const { query, k } = checkedInput(options.input);
      const passages = await core().search(query, k);
      const text =
        passages.length === 0
          ? `No passages in the workspace docs matched "${query}".`
          : passages.map((passage) => `[${passage.n}] ${citationLabel(passage)}${passage.heading ? ` — ${passage.heading}` : ''}\n${passage.text}`).join('\n\n');
      return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(text)]);
    },
  });
}
