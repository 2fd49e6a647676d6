/**
 * The editor's selection as Docent asks about it, for Explain Selection and `@docent /explain`:
 * the search runs on the selection's own terms (docs describe a function by its name and its
 * words, never by "this python from src/x.py") and the selection travels with its file:lines.
 */
import * as vscode from 'vscode';
import type { EditorSelection } from '../core/pipeline/types.js';
import { isProseLanguage, selectionQuery } from '../core/pipeline/selectionQuery.js';

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

/** The query and the selection to ask with; undefined when the editor has no selection. */
export async function selectionQuestion(editor: vscode.TextEditor | undefined): Promise<{ query: string; selection: EditorSelection } | undefined> {
  if (!editor || editor.selection.isEmpty) return undefined;
  const { document, selection } = editor;
  const text = document.getText(selection);
  const languageId = document.languageId;
  const symbol = isProseLanguage(languageId) ? undefined : await enclosingSymbol(document.uri, selection.start);
  const lastLine = selection.end.character === 0 && selection.end.line > selection.start.line ? selection.end.line : selection.end.line + 1;
  const where = `${vscode.workspace.asRelativePath(document.uri)}:${selection.start.line + 1}-${lastLine}`;
  const query = selectionQuery({ text, languageId, symbol }) || text.trim().slice(0, 200);
  return { query, selection: { text, languageId, path: where } };
}
