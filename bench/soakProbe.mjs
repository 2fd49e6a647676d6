// Preloaded into the `docent serve` child by bench/soak.ts. On SIGUSR2 it collects garbage in the
// main thread and in every worker thread (the decoder's V8 heap is its own, not in the main
// thread's process.memoryUsage()), and writes to DOCENT_SOAK_PROBE: the main thread's memory, each
// worker's heap and external memory, and the process's resident pages split as /proc/self/smaps
// sees them (malloc's main arena `[heap]`, other anonymous memory: thread arenas, V8 pages,
// onnxruntime's allocations; file-backed: code and mapped files).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';

const channel = new BroadcastChannel('docent-soak-probe');
channel.unref(); // never keeps a thread alive

function threadMemory() {
  globalThis.gc?.();
  const { heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  return { threadId, heapUsed, heapTotal, external, arrayBuffers };
}

function residentBreakdown() {
  const kb = { mallocHeap: 0, anonymous: 0, fileBacked: 0 };
  let kind = 'anonymous';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (mapping) kind = mapping[2] === '[heap]' ? 'mallocHeap' : mapping[2].startsWith('/') ? 'fileBacked' : 'anonymous';
    else if (line.startsWith('Rss:')) kb[kind] += Number(line.split(/\s+/)[1]);
  }
  return Object.fromEntries(Object.entries(kb).map(([key, value]) => [key, value * 1024]));
}

if (isMainThread) {
  // Every worker the serve process starts also loads this file (the decoder worker gets empty execArgv).
  const threads = createRequire(import.meta.url)('node:worker_threads');
  const Base = threads.Worker;
  let live = 0;
  threads.Worker = class extends Base {
    constructor(script, options = {}) {
      super(script, { ...options, execArgv: [...(options.execArgv ?? []), '--import', import.meta.url] });
      live++;
      this.once('exit', () => live--);
    }
  };
  process.on('SIGUSR2', () => {
    const workers = [];
    const write = () => {
      channel.onmessage = null;
      const main = threadMemory();
      writeFileSync(process.env.DOCENT_SOAK_PROBE, JSON.stringify({ rss: process.memoryUsage().rss, ...main, workers, resident: residentBreakdown() }));
    };
    if (live === 0) return write();
    const timer = setTimeout(write, 5_000);
    channel.onmessage = ({ data }) => {
      workers.push(data);
      if (workers.length === live) {
        clearTimeout(timer);
        write();
      }
    };
    channel.postMessage('measure');
  });
} else {
  // Other workers' replies arrive here too: answer only the main thread's request.
  channel.onmessage = ({ data }) => {
    if (data === 'measure') channel.postMessage(threadMemory());
  };
}
