/**
 * Extension entry point: activation creates the context (ctx.ts), registers the commands from
 * one table (commands.ts) and the editor events, and nothing else. The core process (src/core:
 * indexing, embeddings, retrieval, answers) is forked when the editor has been idle for a moment
 * after startup, or on the first question.
 */
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { registerChatIntegrations } from './chatIntegrations.js';
import { COMMANDS } from './commands.js';
import { Ctx, type DocentDiagnostics } from './ctx.js';

let current: Ctx | undefined;

/** What `activate` returns to other extensions and to the in-host tests. */
export interface DocentApi {
  diagnostics(): Promise<DocentDiagnostics>;
  /** Which of the editor's chat features Docent registered in this editor (chatIntegrations.ts). */
  chatIntegrations: readonly string[];
}

export function activate(extension: vscode.ExtensionContext): DocentApi {
  const started = performance.now();
  const ctx = new Ctx(extension);
  current = ctx;
  extension.subscriptions.push(ctx);
  void ctx.loadApiKey();
  for (const [name, command] of Object.entries(COMMANDS)) ctx.own(vscode.commands.registerCommand(`docent.${name}`, command(ctx)));
  const integrations = registerChatIntegrations(ctx);

  ctx.own(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!event.affectsConfiguration('docent') && !event.affectsConfiguration('files.exclude')) return;
      if (ctx.core.started) ctx.reconfigure();
      else ctx.chat.refresh();
      ctx.autoStartLocalServer();
    }),
  );
  ctx.own(
    vscode.workspace.onDidChangeWorkspaceFolders((change) => {
      ctx.log.info(`workspace folders changed: ${change.added.length} added, ${change.removed.length} removed`);
      if (ctx.core.started) ctx.reconfigure();
      ctx.indexing.foldersChanged();
    }),
  );
  ctx.own(vscode.workspace.onDidGrantWorkspaceTrust(() => ctx.autoStartLocalServer()));
  ctx.indexing.start();

  ctx.activationMs = performance.now() - started;
  const folders = vscode.workspace.workspaceFolders?.length ?? 0;
  const workspaceFile = vscode.workspace.workspaceFile ? ` from ${vscode.workspace.workspaceFile.toString()}` : '';
  ctx.log.info(`Docent ${String(extension.extension.packageJSON.version)} activated in ${ctx.activationMs.toFixed(1)} ms (${folders} workspace folders${workspaceFile}; editor chat: ${integrations.join(', ') || 'none'})`);
  return { diagnostics: () => ctx.diagnostics(), chatIntegrations: integrations };
}

export function deactivate(): void {
  current?.dispose();
  current = undefined;
}
