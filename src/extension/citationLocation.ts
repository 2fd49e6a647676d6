/** Where a cited passage lies in the open workspace, for the native chat's anchors and references. */
import * as vscode from 'vscode';
import type { LocatedCitation } from '../core/pipeline/types.js';

/** The cited lines as a Location; undefined when the folder is no longer open. */
export function citationLocation(citation: Pick<LocatedCitation, 'folder' | 'path' | 'startLine' | 'endLine'>): vscode.Location | undefined {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const folder = folders.find((candidate) => candidate.name === citation.folder) ?? (folders.length === 1 ? folders[0] : undefined);
  if (!folder) return undefined;
  const uri = vscode.Uri.joinPath(folder.uri, ...citation.path.split('/'));
  return new vscode.Location(uri, new vscode.Range(citation.startLine - 1, 0, citation.endLine - 1, Number.MAX_SAFE_INTEGER));
}

/**
 * The location as a file Uri whose fragment (`#L37,1-L40,…`) selects its whole range when opened:
 * the native chat opens an anchor to a Location at its first line only (VS Code 1.104 links it
 * as `#37,1`), while the editor's opener selects a fragment's range, end column clamped to the line.
 */
export function selectingUri(location: vscode.Location): vscode.Uri {
  const { start, end } = location.range;
  return location.uri.with({ fragment: `L${start.line + 1},${start.character + 1}-L${end.line + 1},${end.character + 1}` });
}

/** `folder/path:start-end` (the folder only in a multi-root workspace), as Docent labels a citation everywhere. */
export function citationLabel(citation: Pick<LocatedCitation, 'folder' | 'path' | 'startLine' | 'endLine'>): string {
  return `${citation.folder ? `${citation.folder}/` : ''}${citation.path}:${citation.startLine}-${citation.endLine}`;
}
