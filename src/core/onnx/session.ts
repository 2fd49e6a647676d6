/**
 * Creates onnxruntime-node sessions on the best execution provider that actually loads.
 * onnxruntime-node does not fall back by itself: `executionProviders: ['cuda', 'cpu']` throws
 * when the CUDA libraries are missing, so each provider is tried on its own, in order.
 */
import * as ort from 'onnxruntime-node';
import { errorMessage } from '../errorMessage.js';

export const DEVICE_CHOICES = ['auto', 'cpu', 'cuda', 'dml', 'coreml'] as const;
export type DeviceChoice = (typeof DEVICE_CHOICES)[number];

export function isDeviceChoice(value: string): value is DeviceChoice {
  return (DEVICE_CHOICES as readonly string[]).includes(value);
}

export interface ActiveDevice {
  /** The execution provider the session runs on: 'cpu', 'cuda', 'dml' or 'coreml'. */
  provider: string;
  kind: 'cpu' | 'gpu';
  /** Why each provider tried before the active one was passed over (empty when the first worked). */
  fallbackReasons: string[];
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

const PROVIDER_LABEL: Record<string, string> = { cuda: 'CUDA', dml: 'DirectML', coreml: 'CoreML', cpu: 'CPU' };

const PROVIDER_HINT: Record<string, string> = {
  cuda:
    'It needs an NVIDIA GPU, CUDA 12 and cuDNN 9 on the library path, and onnxruntime-node installed WITHOUT ' +
    'onnxruntime-node-install=skip (that download fetches the CUDA provider libraries). Use device "auto" or "cpu" to run on the CPU.',
  dml: 'DirectML ships with onnxruntime-node on Windows x64 only and needs a DirectX 12 GPU. Use device "auto" or "cpu".',
  coreml: 'CoreML is available on macOS only. Use device "auto" or "cpu".',
};

/** GPU providers worth trying for `auto`, best first, for a platform. */
export function gpuProvidersFor(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string[] {
  if (platform === 'win32') return arch === 'x64' ? ['cuda', 'dml'] : ['dml'];
  if (platform === 'darwin') return ['coreml'];
  if (platform === 'linux') return arch === 'x64' ? ['cuda'] : [];
  return [];
}

export function providerOrder(choice: DeviceChoice, platform: NodeJS.Platform = process.platform, arch: string = process.arch): string[] {
  if (choice === 'auto') return [...gpuProvidersFor(platform, arch), 'cpu'];
  return [choice];
}

export interface CreatedSession {
  session: ort.InferenceSession;
  active: ActiveDevice;
}

export type SessionOptions = Omit<ort.InferenceSession.SessionOptions, 'executionProviders'>;

/**
 * Tries the providers for `choice` in order. `auto` ends on CPU, collecting the reason each GPU
 * provider failed; an explicit GPU choice that fails throws DeviceUnavailableError.
 */
/**
 * A GPU provider that cannot load is expected on most machines, and onnxruntime's native logger
 * would print a red error line for it on every start. Failures still reach us as exceptions
 * (collected in fallbackReasons), so the native logger only needs fatal messages. It is
 * configured once, before the first session creates the runtime environment.
 */
let nativeLogQuieted = false;
function quietNativeLog(): void {
  if (nativeLogQuieted) return;
  ort.env.logLevel = 'fatal';
  nativeLogQuieted = true;
}

export async function createSession(
  model: string | Uint8Array,
  choice: DeviceChoice,
  options: SessionOptions = {},
): Promise<CreatedSession> {
  quietNativeLog();
  const fallbackReasons: string[] = [];
  const order = providerOrder(choice);
  for (const provider of order) {
    try {
      const sessionOptions = { ...options, executionProviders: [provider] };
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model, sessionOptions);
      return { session, active: { provider, kind: provider === 'cpu' ? 'cpu' : 'gpu', fallbackReasons } };
    } catch (error) {
      if (choice !== 'auto' || provider === 'cpu') {
        if (provider === 'cpu') throw error;
        throw new DeviceUnavailableError(provider, error);
      }
      fallbackReasons.push(`${PROVIDER_LABEL[provider] ?? provider}: ${shortReason(error)}`);
    }
  }
  throw new Error(`no execution provider could be tried for device "${choice}"`);
}

/** One line for logs and status: "CPU (CUDA unavailable: …)". */
export function describeDevice(active: ActiveDevice): string {
  const label = PROVIDER_LABEL[active.provider] ?? active.provider;
  if (active.fallbackReasons.length === 0) return label;
  return `${label} (fell back: ${active.fallbackReasons.join('; ')})`;
}

/** One line of at most 300 characters: native loaders throw whole stack dumps. */
function shortReason(error: unknown): string {
  return errorMessage(error).split('\n')[0]!.slice(0, 300);
}
