/**
 * Reads onnxruntime's own account of a session: which execution provider each node was placed
 * on, and why a provider library failed to load. onnxruntime-node offers neither through its
 * API; both are only in the native log (the "Node placements" lines that
 * session_state.cc:VerifyEachNodeIsAssignedToAnEp prints at VERBOSE severity, and
 * provider_bridge_ort.cc's "Failed to load library … with error: …" at ERROR). That log goes to
 * the process's stderr, which JavaScript cannot read in-process, so a child process creates the
 * session once with verbose logging and this module parses what it printed.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Placement } from './placementTypes.js';

export type { Placement } from './placementTypes.js';

export interface ProbeResult {
  /** The session was created in the child. */
  created: boolean;
  error?: string;
  placement?: Placement;
  /** "Failed to load library …" lines: they name the library that is missing and why. */
  libraryErrors: string[];
  /** Warnings Dawn (WebGPU) prints while it looks for an adapter, e.g. why a Vulkan device was rejected. */
  driverWarnings: string[];
}

const CPU_PROVIDER = 'CPUExecutionProvider';
const GROUP = /(All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/;
const NODE = /VerifyEachNodeIsAssignedToAnEp\]\s{3}(\S+) \(/;
const LIBRARY_ERROR = /Failed to load library (.*)$/;
// onnxruntime colours its log lines on a terminal.
const ANSI = /\x1b\[[0-9;]*m/g;

/** Parses the placement section of an onnxruntime VERBOSE session log. */
export function parsePlacement(lines: Iterable<string>): Placement | undefined {
  const nodes: Record<string, number> = {};
  const cpuOps: Record<string, number> = {};
  let hostCopies = 0;
  let current: string | undefined;
  let seen = false;
  for (const raw of lines) {
    const line = raw.replace(ANSI, '');
    const group = GROUP.exec(line);
    if (group) {
      seen = true;
      current = group[2]!;
      nodes[current] = (nodes[current] ?? 0) + Number(group[3]);
      continue;
    }
    const node = current ? NODE.exec(line) : null;
    if (!node) continue;
    const opType = node[1]!;
    if (opType === 'MemcpyToHost' || opType === 'MemcpyFromHost') hostCopies++;
    if (current === CPU_PROVIDER) cpuOps[opType] = (cpuOps[opType] ?? 0) + 1;
  }
  return seen ? { nodes, cpuOps, hostCopies } : undefined;
}

export function parseLibraryErrors(lines: Iterable<string>): string[] {
  const errors: string[] = [];
  for (const raw of lines) {
    const match = LIBRARY_ERROR.exec(raw.replace(ANSI, ''));
    if (match) errors.push(match[1]!.trim());
  }
  return errors;
}

/** Nodes on the CPU out of all nodes; 0 when every node runs on the requested provider. */
export function cpuNodeShare(placement: Placement): { cpu: number; total: number } {
  const total = Object.values(placement.nodes).reduce((sum, count) => sum + count, 0);
  return { cpu: placement.nodes[CPU_PROVIDER] ?? 0, total };
}

export interface ProbeOptions {
  /** The `executionProviders` entry, e.g. 'webgpu' or { name: 'cuda', deviceId: 1 }. */
  provider: string | { name: string; deviceId?: number };
  graphOptimizationLevel?: string;
  extra?: Record<string, unknown>;
  /** Give up after this long (model loads can be slow; the default is generous). */
  timeoutMs?: number;
}

// Runs in the child: creates the session with every log line on, then reports on stdout.
const PROBE_SCRIPT = `
const ort = require(process.env.DOCENT_ORT_MODULE);
const input = JSON.parse(process.env.DOCENT_PROBE);
ort.env.logLevel = 'verbose';
ort.InferenceSession.create(input.model, { ...input.options, logSeverityLevel: 0 }).then(
  (session) => session.release().then(() => process.stdout.write(JSON.stringify({ created: true }) + '\\n')),
  (error) => process.stdout.write(JSON.stringify({ created: false, error: String(error && error.message || error) }) + '\\n'),
);
`;

/**
 * Creates the session in a child process with onnxruntime's VERBOSE log and reads the log.
 * Costs one extra model load; used only for non-CPU providers.
 */
export async function probeSession(modelPath: string, options: ProbeOptions): Promise<ProbeResult> {
  const sessionOptions = {
    executionProviders: [options.provider],
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    ...(options.extra ? { extra: options.extra } : {}),
  };
  const child = spawn(process.execPath, ['-e', PROBE_SCRIPT], {
    env: { ...process.env, DOCENT_ORT_MODULE: require.resolve('onnxruntime-node'), DOCENT_PROBE: JSON.stringify({ model: modelPath, options: sessionOptions }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const relevant: string[] = [];
  const driverWarnings: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (line.includes('VerifyEachNodeIsAssignedToAnEp') || line.includes('Failed to load library')) relevant.push(line);
    else if (line.startsWith('Warning: ')) driverWarnings.push(line.slice('Warning: '.length).trim());
  });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  const libraryErrors = parseLibraryErrors(relevant);
  const line = stdout.trim().split('\n').pop();
  if (!line) return { created: false, error: `the probe process exited with code ${code} before reporting`, libraryErrors, driverWarnings };
  const result = JSON.parse(line) as { created: boolean; error?: string };
  return { created: result.created, error: result.error, placement: parsePlacement(relevant), libraryErrors, driverWarnings };
}
