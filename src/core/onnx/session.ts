/**
 * Creates onnxruntime-node sessions on the best execution provider that actually loads.
 * onnxruntime-node does not fall back by itself: `executionProviders: ['cuda', 'cpu']` throws
 * when the CUDA libraries are missing, so each provider is tried on its own, in order.
 *
 * What onnxruntime-node 1.30 ships, per platform (its bin/napi-v6 folders, and
 * `listSupportedBackends()` on Linux x64):
 * - Linux x64: CPU, WebGPU (Dawn over Vulkan) and CUDA/TensorRT. The CUDA provider libraries
 *   (libonnxruntime_providers_cuda.so, …_shared.so) are not in the npm package: its install
 *   script downloads them from the Microsoft.ML.OnnxRuntime.Gpu.Linux NuGet package, which
 *   `npm run setup:cuda` runs (package.json's allowScripts keeps `npm ci` offline by not running
 *   it); they need CUDA 12 and cuDNN 9 at run time.
 * - Linux arm64: CPU only.
 * - Windows x64/arm64: CPU, DirectML (DirectML.dll ships) and WebGPU. No CUDA provider.
 * - macOS arm64: CPU, CoreML and WebGPU (Metal). There is no macOS x64 binary at all.
 *
 * A GPU session may still run some nodes on the CPU. That is visible only in onnxruntime's
 * native log, which a child process reads (placement.ts) before the session is created here.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { cpuNodeShare, probeSession, type Placement } from './placement.js';
import { errorMessage } from '../errorMessage.js';

import type { DeviceChoice } from './deviceChoice.js';

export { DEVICE_CHOICES, isDeviceChoice, type DeviceChoice } from './deviceChoice.js';

export interface ActiveDevice {
  /** The execution provider the session runs on: 'cpu', 'cuda', 'webgpu', 'dml' or 'coreml'. */
  provider: string;
  kind: 'cpu' | 'gpu';
  /** The adapter index for CUDA and DirectML (WebGPU has no such option in 1.30's binding). */
  deviceId?: number;
  /** Why each provider tried before the active one was passed over (empty when the first worked). */
  fallbackReasons: string[];
  /** Where onnxruntime placed the nodes, from its log (GPU providers only). */
  placement?: Placement;
}

export class DeviceUnavailableError extends Error {
  constructor(
    readonly provider: string,
    cause: unknown,
  ) {
    super(`${PROVIDER_LABEL[provider] ?? provider} execution provider could not be loaded: ${shortReason(cause)}. ${PROVIDER_HINT[provider] ?? ''}`.trim(), { cause });
    this.name = 'DeviceUnavailableError';
  }
}

/** An explicitly chosen GPU provider that would leave part of the model on the CPU, with copies. */
export class DeviceFallbackError extends Error {
  override name = 'DeviceFallbackError';
  constructor(
    readonly provider: string,
    readonly placement: Placement,
  ) {
    const { cpu, total } = cpuNodeShare(placement);
    super(
      `${PROVIDER_LABEL[provider] ?? provider} cannot run this model by itself: onnxruntime placed ${cpu} of ${total} nodes on the CPU ` +
        `(${describeOps(placement.cpuOps)}) and copies activations between the device and the host ${placement.hostCopies} time(s) per run. ` +
        'Use device "auto" to accept the mixed placement, or "cpu".',
    );
  }
}

const PROVIDER_LABEL: Record<string, string> = { cuda: 'CUDA', webgpu: 'WebGPU', dml: 'DirectML', coreml: 'CoreML', cpu: 'CPU' };

const CUDA_LIBRARIES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];

const PROVIDER_HINT: Record<string, string> = {
  cuda:
    'onnxruntime-node has a CUDA provider on Linux x64 only. It needs an NVIDIA GPU with CUDA 12 and cuDNN 9 on the library path, and the ' +
    "provider libraries installed beside onnxruntime-node's binding: from a source checkout, `npm run setup:cuda` after `npm ci` " +
    '(the VSIX carries no CUDA libraries). Use device "auto" or "cpu" to run without it.',
  webgpu: 'WebGPU needs a GPU with a Vulkan driver (Linux), DirectX 12 (Windows) or Metal (macOS); software Vulkan (llvmpipe) is rejected. Use device "auto" or "cpu".',
  dml: 'DirectML ships with onnxruntime-node on Windows only and needs a DirectX 12 GPU. Use device "auto" or "cpu".',
  coreml: 'CoreML is available on macOS (Apple silicon) only. Use device "auto" or "cpu".',
};

/** GPU providers worth trying for `auto`, best first, for a platform. */
export function gpuProvidersFor(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string[] {
  if (platform === 'win32') return ['dml', 'webgpu'];
  if (platform === 'darwin') return arch === 'arm64' ? ['coreml', 'webgpu'] : [];
  if (platform === 'linux') return arch === 'x64' ? ['cuda', 'webgpu'] : [];
  return [];
}

export function providerOrder(choice: DeviceChoice, platform: NodeJS.Platform = process.platform, arch: string = process.arch): string[] {
  if (choice === 'auto') return [...gpuProvidersFor(platform, arch), 'cpu'];
  return [choice];
}

/** The `executionProviders` entry for a provider: CUDA and DirectML take an adapter index. */
export function providerConfig(provider: string, deviceId?: number): string | { name: string; deviceId: number } {
  if (deviceId !== undefined && (provider === 'cuda' || provider === 'dml')) return { name: provider, deviceId };
  return provider;
}

/** Where onnxruntime-node loads its native libraries from (the CUDA provider libraries go beside them). */
export function bindingDirectory(): string {
  return join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * Reasons a provider cannot load that can be told without trying it: a build without it, its
 * libraries absent. Trying costs a second or more and, for WebGPU, Dawn prints warnings.
 */
export function preflight(provider: string, platform: NodeJS.Platform = process.platform, arch: string = process.arch): string | undefined {
  const here = `${platform}-${arch}`;
  if (provider === 'cuda') {
    if (here !== 'linux-x64') return `onnxruntime-node 1.30 has no CUDA provider on ${here}`;
    const missing = CUDA_LIBRARIES.filter((name) => !existsSync(join(bindingDirectory(), name)));
    if (missing.length > 0) return `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed in ${bindingDirectory()}`;
  }
  if (provider === 'dml' && platform !== 'win32') return `DirectML exists only in onnxruntime-node's Windows build, not on ${here}`;
  if (provider === 'coreml' && !(platform === 'darwin' && arch === 'arm64')) return `CoreML exists only in onnxruntime-node's macOS arm64 build, not on ${here}`;
  if (provider === 'webgpu') {
    if (here === 'linux-arm64') return 'onnxruntime-node 1.30 has no WebGPU provider on linux-arm64';
    if (platform === 'linux' && !loadable('libvulkan.so.1')) return 'no Vulkan loader: libvulkan.so.1 cannot be loaded (install libvulkan1 and a GPU driver)';
  }
  return undefined;
}

/** Whether the dynamic linker can load a shared library (process.dlopen fails after loading a non-addon, not before). */
function loadable(library: string): boolean {
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, library);
    return true;
  } catch (error) {
    return !/cannot open shared object file|image not found|not found/i.test(String((error as Error).message));
  }
}

export interface CreatedSession {
  session: ort.InferenceSession;
  active: ActiveDevice;
}

export type SessionOptions = Omit<ort.InferenceSession.SessionOptions, 'executionProviders'>;

export interface DeviceRequest {
  choice: DeviceChoice;
  /** Adapter index for CUDA and DirectML; default 0. */
  deviceId?: number;
}

export interface ModelSource {
  /** The model file: what the placement probe loads, and the session too unless `bytes` are given. */
  path: string;
  /** The model to run when it differs from the file (a rewritten graph, see graphEdit.ts). */
  bytes?: Uint8Array;
  /** The file and bytes for a given provider (e.g. an fp16 export on GPUs); default `path`/`bytes`. */
  prepare?: (provider: string) => Promise<PreparedModel>;
}

export interface PreparedModel {
  path: string;
  bytes?: Uint8Array;
}

/**
 * A GPU provider that cannot load is expected on most machines, and onnxruntime's native logger
 * would print a red error line for it on every start. Failures still reach us as exceptions
 * (collected in fallbackReasons) and the library names come from the probe's log, so the
 * in-process logger only needs fatal messages. It is configured once, before the first session
 * creates the runtime environment.
 */
let nativeLogQuieted = false;
function quietNativeLog(runtime: typeof ort): void {
  if (nativeLogQuieted) return;
  runtime.env.logLevel = 'fatal';
  nativeLogQuieted = true;
}

/**
 * The native runtime, loaded by the first session: it takes ~100 ms to load, and a process that
 * imports this module only for its device names and errors (the CLI's main thread) never runs a model.
 */
function onnxRuntime(): typeof ort {
  return require('onnxruntime-node') as typeof ort;
}

/**
 * Tries the providers for `device` in order. `auto` ends on CPU, collecting the reason each GPU
 * provider was passed over; an explicit GPU choice that cannot load throws
 * DeviceUnavailableError, and one that would fall back node by node throws DeviceFallbackError.
 */
export async function createSession(
  model: string | Uint8Array | ModelSource,
  device: DeviceChoice | DeviceRequest,
  options: SessionOptions | ((provider: string) => SessionOptions) = {},
): Promise<CreatedSession> {
  const runtime = onnxRuntime();
  quietNativeLog(runtime);
  const request: DeviceRequest = typeof device === 'string' ? { choice: device } : device;
  const source: ModelSource | undefined = typeof model === 'string' ? { path: model } : model instanceof Uint8Array ? undefined : model;
  const fallbackReasons: string[] = [];
  for (const provider of providerOrder(request.choice)) {
    const explicit = request.choice !== 'auto';
    const config = providerConfig(provider, request.deviceId);
    const providerOptions = typeof options === 'function' ? options(provider) : options;
    let placement: Placement | undefined;
    const unavailable = provider === 'cpu' ? undefined : preflight(provider);
    const prepared = unavailable === undefined && source?.prepare ? await source.prepare(provider) : source;
    if (provider !== 'cpu') {
      const blocked = unavailable ?? (prepared ? await probeFailure(prepared.path, config, providerOptions) : undefined);
      if (typeof blocked === 'string') {
        if (explicit) throw new DeviceUnavailableError(provider, new Error(blocked));
        fallbackReasons.push(`${PROVIDER_LABEL[provider] ?? provider}: ${blocked}`);
        continue;
      }
      placement = blocked?.placement;
      if (explicit && placement && placement.hostCopies > 0) throw new DeviceFallbackError(provider, placement);
    }
    try {
      const sessionOptions = { ...providerOptions, executionProviders: [config] };
      const chosen = prepared ? (prepared.bytes ?? prepared.path) : model;
      const session = typeof chosen === 'string' ? await runtime.InferenceSession.create(chosen, sessionOptions) : await runtime.InferenceSession.create(chosen as Uint8Array, sessionOptions);
      const active: ActiveDevice = { provider, kind: provider === 'cpu' ? 'cpu' : 'gpu', fallbackReasons };
      if (typeof config !== 'string') active.deviceId = config.deviceId;
      if (placement) active.placement = placement;
      return { session, active };
    } catch (error) {
      if (provider === 'cpu') throw error;
      if (explicit) throw new DeviceUnavailableError(provider, error);
      fallbackReasons.push(`${PROVIDER_LABEL[provider] ?? provider}: ${shortReason(error)}`);
    }
  }
  throw new Error(`no execution provider could be tried for device "${request.choice}"`);
}

/**
 * Creates the session once in a child process with onnxruntime's verbose log. Returns the
 * reason it failed (with the libraries the log names) or the placement it printed.
 */
async function probeFailure(path: string, config: ReturnType<typeof providerConfig>, options: SessionOptions): Promise<string | { placement?: Placement }> {
  const probe = await probeSession(path, { provider: config, graphOptimizationLevel: options.graphOptimizationLevel, extra: options.extra });
  if (probe.created) return { placement: probe.placement };
  const libraries = probe.libraryErrors.length > 0 ? ` (onnxruntime: failed to load ${probe.libraryErrors.join('; ')})` : '';
  const driver = probe.driverWarnings.length > 0 ? ` (Dawn: ${probe.driverWarnings.join('; ')})` : '';
  return `${shortReason(probe.error)}${libraries}${driver}`;
}

/** One line for logs and status: "CUDA (device 0; 3 of 412 nodes on the CPU, no host copies)". */
export function describeDevice(active: Pick<ActiveDevice, 'provider' | 'fallbackReasons' | 'placement' | 'deviceId'>): string {
  const label = PROVIDER_LABEL[active.provider] ?? active.provider;
  const details: string[] = [];
  if (active.deviceId !== undefined) details.push(`device ${active.deviceId}`);
  if (active.placement) {
    const { cpu, total } = cpuNodeShare(active.placement);
    if (cpu > 0) {
      const copies = active.placement.hostCopies > 0 ? `${active.placement.hostCopies} host copies per run` : 'no host copies';
      details.push(`partly on the CPU: ${cpu} of ${total} nodes (${describeOps(active.placement.cpuOps)}), ${copies}`);
    } else details.push(`all ${total} nodes on the device`);
  }
  if (active.fallbackReasons.length > 0) details.push(`fell back: ${active.fallbackReasons.join('; ')}`);
  return details.length > 0 ? `${label} (${details.join('; ')})` : label;
}

function describeOps(ops: Record<string, number>): string {
  const entries = Object.entries(ops).sort((a, b) => b[1] - a[1]);
  const shown = entries.slice(0, 6).map(([op, count]) => `${op}×${count}`);
  return entries.length > 6 ? `${shown.join(', ')}, …` : shown.join(', ');
}

/** One line of at most 300 characters: native loaders throw whole stack dumps. */
function shortReason(error: unknown): string {
  const text = errorMessage(error);
  // ORT_ENFORCE messages start with the source location and the failed condition.
  return text.replace(/^\/onnxruntime_src\/\S+ .*? was false\. /, '').split('\n')[0]!.slice(0, 300);
}
