/** The one Docent status bar item: latency and hit ratio when idle, index progress, paused, error, device. It reads the index state, never keeps it. */
import * as vscode from 'vscode';
import type { IndexState } from '../core/workspace/indexState.js';

export interface AnswerStats {
  p50Ms: number;
  p95Ms: number;
  answerHitRatio: number;
  embeddingHitRatio: number;
  breaker: string;
}

export interface StatusBarHost {
  backendLabel(): string;
  index(): IndexState | undefined;
}

export class DocentStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('docent.status', vscode.StatusBarAlignment.Right, 100);
  private answers: AnswerStats | undefined;

  constructor(private readonly host: StatusBarHost) {
    this.item.name = 'Docent';
    this.item.command = 'docent.statusMenu';
    this.render();
    this.item.show();
  }

  setAnswers(answers: AnswerStats): void {
    this.answers = answers;
    this.render();
  }

  render(): void {
    const progress = this.host.index();
    const device = progress?.device === 'gpu' ? ' · GPU' : progress?.device === 'cpu' ? ' · CPU' : '';
    let text: string;
    this.item.backgroundColor = undefined;
    if (progress?.state === 'indexing') text = `$(sync~spin) Docent ${progress.step === 'graph' ? 'vector graph ' : ''}${progress.percent}%`;
    else if (progress?.state === 'paused') text = '$(debug-pause) Docent paused';
    else if (progress?.state === 'error') {
      text = '$(error) Docent';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    } else if (this.answers) text = `$(book) Docent ${Math.round(this.answers.p50Ms)} ms · ${Math.round(this.answers.answerHitRatio * 100)}% hits${device}`;
    else text = `$(book) Docent${device}`;
    this.item.text = text;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown('**Docent**\n\n');
    if (progress?.message) tooltip.appendText(`${progress.message}\n\n`);
    tooltip.appendMarkdown(`Index: ${progress ? `${progress.files} files, ${progress.chunks} passages (${progress.state})` : 'not loaded yet'}\n\n`);
    if (this.answers) {
      tooltip.appendMarkdown(
        `Latency p50 ${Math.round(this.answers.p50Ms)} ms, p95 ${Math.round(this.answers.p95Ms)} ms\n\n` +
          `Cache hits: answers ${Math.round(this.answers.answerHitRatio * 100)}%, embeddings ${Math.round(this.answers.embeddingHitRatio * 100)}%\n\n` +
          `Breaker: ${this.answers.breaker}\n\n`,
      );
    }
    tooltip.appendMarkdown(`Backend: ${this.host.backendLabel()}${progress?.provider ? ` · embeddings on ${progress.provider}` : ''}`);
    this.item.tooltip = tooltip;
    this.item.accessibilityInformation = { label: text.replace(/\$\([^)]+\)\s*/g, '') || 'Docent' };
  }

  dispose(): void {
    this.item.dispose();
  }
}
