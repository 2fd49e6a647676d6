/**
 * Docent inside the editor's own AI features, each registered only where the running editor has
 * its API (the manifest's minimum, 1.100, has the tool and participant APIs but only a draft of
 * the MCP provider's, final in 1.101): the `#docs` tool, the `@docent` participant and the MCP server definitions.
 */
import * as vscode from 'vscode';
import { registerChatParticipant } from './chatParticipant.js';
import type { Ctx } from './ctx.js';
import { registerDocsTool } from './docsTool.js';
import { registerMcpProvider } from './mcpProvider.js';

/** What was registered, by name (the log line and the in-host tests read it). */
export function registerChatIntegrations(ctx: Ctx): string[] {
  const registered: string[] = [];
  const core = () => ctx.startedCore();
  if (typeof vscode.lm?.registerTool === 'function') {
    ctx.own(registerDocsTool(core));
    registered.push('tool');
  }
  if (typeof vscode.chat?.createChatParticipant === 'function') {
    ctx.own(registerChatParticipant(ctx.extension, core, ctx.log));
    registered.push('participant');
  }
  const mcp = registerMcpProvider(ctx.extension, (message) => ctx.log.info(message));
  if (mcp) {
    ctx.own(mcp);
    registered.push('mcp');
  }
  return registered;
}
