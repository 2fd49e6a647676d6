/**
 * Extension entry point. For now it only owns the "Docent" log channel; the chat view,
 * commands and indexing UX arrive with later issues and register through `DocentContext`.
 */
import * as vscode from 'vscode';

/** Owns every disposable the extension creates, so deactivation releases all of them. */
export class DocentContext implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  readonly log: vscode.LogOutputChannel;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = this.own(vscode.window.createOutputChannel('Docent', { log: true }));
  }

  own<T extends vscode.Disposable>(disposable: T): T {
    this.disposables.push(disposable);
    return disposable;
  }

  dispose(): void {
    for (const disposable of this.disposables.splice(0).reverse()) disposable.dispose();
  }
}

let current: DocentContext | undefined;

export function activate(extension: vscode.ExtensionContext): void {
  current = new DocentContext(extension);
  extension.subscriptions.push(current);
  current.log.info(`Docent ${String(extension.extension.packageJSON.version)} activated`);
}

export function deactivate(): void {
  current?.dispose();
  current = undefined;
}
