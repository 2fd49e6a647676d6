/**
 * Offers `docent mcp` for each open folder to the editor's MCP client (VS Code ≥ 1.101,
 * vscode.lm.registerMcpServerDefinitionProvider), so agent mode and other extensions' agents can
 * use the three tools without any configuration. The server runs the bundled CLI on the editor's
 * own Node runtime and keeps its own index of the folder (a second writer on the chat's store
 * would race it), in the extension's storage.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';

/** The provider's id in package.json's mcpServerDefinitionProviders. */
export const MCP_PROVIDER_ID = 'docent.mcp';

// The 1.101 API, declared here because the manifest (and @types/vscode) stay at 1.100.
interface McpStdioServerDefinitionConstructor {
  new (label: string, command: string, args?: string[], env?: Record<string, string | number | null>, version?: string): object;
}
interface McpLanguageModelApi {
  registerMcpServerDefinitionProvider(
    id: string,
    provider: { onDidChangeMcpServerDefinitions?: vscode.Event<void>; provideMcpServerDefinitions(token: vscode.CancellationToken): vscode.ProviderResult<object[]> },
  ): vscode.Disposable;
}

/** Undefined in an editor without the API. */
export function registerMcpProvider(extension: vscode.ExtensionContext): vscode.Disposable | undefined {
  const api = vscode.lm as unknown as Partial<McpLanguageModelApi>;
  const Definition = (vscode as unknown as { McpStdioServerDefinition?: McpStdioServerDefinitionConstructor }).McpStdioServerDefinition;
  const storage = extension.storageUri;
  if (typeof api.registerMcpServerDefinitionProvider !== 'function' || !Definition || !storage) return undefined;
  const changed = new vscode.EventEmitter<void>();
  const cli = path.join(extension.extensionPath, 'dist', 'cli.js');
  const version = String(extension.extension.packageJSON.version);
  const registration = api.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, {
    onDidChangeMcpServerDefinitions: changed.event,
    provideMcpServerDefinitions: () =>
      (vscode.workspace.workspaceFolders ?? [])
        .filter((folder) => folder.uri.scheme === 'file')
        .map((folder) => {
          const store = path.join(storage.fsPath, 'mcp', `${folder.index}-${folder.name.replace(/[^\w.-]+/g, '_')}`);
          // Electron-based editors run the script with their own Node runtime.
          return new Definition(`Docent: ${folder.name}`, process.execPath, [cli, 'mcp', '--store', store, '--folder', folder.uri.fsPath], { ELECTRON_RUN_AS_NODE: '1' }, version);
        }),
  });
  const folders = vscode.workspace.onDidChangeWorkspaceFolders(() => changed.fire());
  return vscode.Disposable.from(registration, folders, changed);
}
