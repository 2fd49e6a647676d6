/**
 * What explaining the editor's selection asks, for the Explain Selection command and `@docent
 * /explain` alike: the selection with its file and lines, and a search with the selection's own
 * terms (core selectionQuery) rather than with the words of the question.
 */
import * as vscode from 'vscode';
import { isProseLanguage, selectionQuery } from '../core/pipeline/selectionQuery.js';
import type { AskParams } from './coreProcess/protocol.js';

/** The name of the innermost document symbol around `position`, when a symbol provider knows one. */
async function enclosingSymbol(uri: vscode.Uri, position: vscode.Position): Promise<string | undefined> {
  const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[] | undefined>('vscode.executeDocumentSymbolProvider', uri).then(
    (found) => found,
    () => undefined,
  );
  let name: string | undefined;
  let level = Array.isArray(symbols) ? symbols : [];
  for (;;) {
    const inner = level.find((symbol) => symbol.range?.contains(position));
    if (!inner) return name;
    name = inner.name;
    level = inner.children ?? [];
  }
}

export type ExplainRequest = Required<Pick<AskParams, 'question' | 'selection' | 'searchQuery'>>;

/** The request that explains `editor`'s (non-empty) selection. */
export async function explainRequest(editor: vscode.TextEditor): Promise<ExplainRequest> {
  const { document, selection } = editor;
  const text = document.getText(selection);
  const languageId = document.languageId;
  const prose = isProseLanguage(languageId);
  const symbol = prose ? undefined : await enclosingSymbol(document.uri, selection.start);
  // A selection that ends at the start of a line (whole lines selected) does not include that line.
  const endLine = selection.end.character === 0 && selection.end.line > selection.start.line ? selection.end.line : selection.end.line + 1;
  return {
    question: `Explain the selected ${prose ? 'text' : 'code'}`,
    selection: { text, languageId, path: vscode.workspace.asRelativePath(document.uri), startLine: selection.start.line + 1, endLine },
    searchQuery: selectionQuery({ text, languageId, symbol }) || text.trim().slice(0, 200),
  };
}
