/**
 * The one HTML shell of Docent's webviews (the chat view and Show Metrics): a strict CSP that
 * loads nothing but the extension's own stylesheet, images and fonts and runs no script but the
 * nonce'd bundle. No vscode import, so the webview suite serves exactly this page.
 */
import { randomBytes } from 'node:crypto';

export interface WebviewPage {
  /** The webview's resource origin (`webview.cspSource`). */
  cspSource: string;
  /** A fresh one per render (newNonce). */
  nonce: string;
  title: string;
  styleUri: string;
  scriptUri: string;
  /** Markup before the script; escaped by the caller. */
  body: string;
}

export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

function webviewCsp(cspSource: string, nonce: string): string {
  return [`default-src 'none'`, `style-src ${cspSource}`, `script-src 'nonce-${nonce}'`, `img-src ${cspSource}`, `font-src ${cspSource}`].join('; ');
}

export function webviewHtml(page: WebviewPage): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${webviewCsp(page.cspSource, page.nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${page.styleUri}">
<title>${page.title}</title>
</head>
<body>
${page.body}
<script nonce="${page.nonce}" src="${page.scriptUri}"></script>
</body>
</html>`;
}
