/**
 * "Docent: Show Metrics": a script-free webview with the answer latency distribution and the
 * cache hit ratios over time, redrawn from samples taken while the panel is open.
 */
import * as vscode from 'vscode';

export interface MetricsSample {
  at: number;
  /** p50/p95/p99/max of whole answers, ms. */
  total?: { p50: number; p95: number; p99: number; max: number; count: number };
  stages: Record<string, number>;
  answerHitRatio: number;
  embeddingHitRatio: number;
  files: number;
  chunks: number;
  hostLagP99Ms?: number;
}

const SAMPLE_INTERVAL_MS = 2000;
const MAX_SAMPLES = 90;

export class MetricsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly samples: MetricsSample[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly sample: () => Promise<MetricsSample>,
  ) {}

  async show(): Promise<void> {
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel('docent.metrics', 'Docent Metrics', vscode.ViewColumn.Active, {
        enableScripts: false,
        localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'media')],
      });
      this.panel.onDidDispose(() => {
        clearInterval(this.timer);
        this.panel = undefined;
      });
      this.timer = setInterval(() => void this.update(), SAMPLE_INTERVAL_MS);
    }
    this.panel.reveal();
    await this.update();
  }

  private async update(): Promise<void> {
    const panel = this.panel;
    if (!panel) return;
    this.samples.push(await this.sample());
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
    const style = panel.webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'metrics.css'));
    panel.webview.html = renderMetrics(this.samples, panel.webview.cspSource, style.toString());
  }

  dispose(): void {
    clearInterval(this.timer);
    this.panel?.dispose();
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function bars(values: [string, number][], unit: string): string {
  const max = Math.max(1, ...values.map(([, value]) => value));
  const rows = values.map(([label, value], i) => {
    const width = (value / max) * 260;
    return `<text class="label" x="0" y="${i * 26 + 16}">${escapeHtml(label)}</text><rect class="bar" x="90" y="${i * 26 + 4}" width="${width.toFixed(1)}" height="16"></rect><text class="value" x="${(96 + width).toFixed(1)}" y="${i * 26 + 16}">${Math.round(value)} ${unit}</text>`;
  });
  return `<svg role="img" width="440" height="${values.length * 26 + 6}">${rows.join('')}</svg>`;
}

function lines(samples: MetricsSample[]): string {
  const width = 440;
  const height = 120;
  const x = (i: number) => (samples.length < 2 ? 0 : (i / (samples.length - 1)) * width).toFixed(1);
  const y = (ratio: number) => (height - ratio * height).toFixed(1);
  const path = (pick: (sample: MetricsSample) => number) => samples.map((sample, i) => `${i === 0 ? 'M' : 'L'}${x(i)},${y(pick(sample))}`).join(' ');
  return `<svg role="img" aria-label="Cache hit ratio over time" width="${width}" height="${height}"><rect class="frame" x="0" y="0" width="${width}" height="${height}"></rect><path class="line answers" d="${path((sample) => sample.answerHitRatio)}"></path><path class="line embeddings" d="${path((sample) => sample.embeddingHitRatio)}"></path></svg>`;
}

export function renderMetrics(samples: MetricsSample[], cspSource: string, styleUri: string): string {
  const last = samples[samples.length - 1]!;
  const total = last.total;
  const latency = total
    ? bars([['p50', total.p50], ['p95', total.p95], ['p99', total.p99], ['max', total.max]], 'ms')
    : '<p>No questions answered yet.</p>';
  const stages = Object.entries(last.stages).filter(([stage]) => stage !== 'total');
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource}">
<link rel="stylesheet" href="${styleUri}"><title>Docent Metrics</title></head><body>
<h1>Docent metrics</h1>
<p>${last.files} files, ${last.chunks} passages indexed${total ? `; ${total.count} answers` : ''}${last.hostLagP99Ms !== undefined ? `; editor event-loop lag p99 while indexing ${last.hostLagP99Ms.toFixed(1)} ms` : ''}.</p>
<h2>Answer latency</h2>${latency}
${stages.length ? `<h2>Median time per stage</h2>${bars(stages, 'ms')}` : ''}
<h2>Cache hit ratio over time</h2>${lines(samples)}
<p class="legend"><span class="key answers"></span> answers ${Math.round(last.answerHitRatio * 100)}% <span class="key embeddings"></span> embeddings ${Math.round(last.embeddingHitRatio * 100)}%</p>
</body></html>`;
}
