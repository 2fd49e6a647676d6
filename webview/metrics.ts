/**
 * The Show Metrics panel's script (bundled to dist/metrics.js): swaps in each redraw the
 * extension sends, in place, so scrolling and focus are kept. Messages are validated first.
 */
import { isMetricsUpdate } from '../src/shared/metricsProtocol.js';

const target = document.getElementById('metrics');
const parser = new DOMParser();

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (!target || !isMetricsUpdate(event.data)) return;
  const drawn = parser.parseFromString(event.data.html, 'text/html');
  target.replaceChildren(...Array.from(drawn.body.childNodes));
});
