/**
 * Command-line arguments, for every `docent` command (`docent serve` included): flags parsed
 * by node:util's parseArgs, mistakes turned into one-line UsageErrors that name the flag.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEVICE_CHOICES, isDeviceChoice, type DeviceChoice } from '../core/onnx/deviceChoice.js';
import type { BackendConfig } from '../core/pipeline/types.js';
import { SEARCH_MODES, type SearchMode } from '../core/types.js';

/** A mistake in how the CLI was called: exit code 2 and one line on stderr. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

export function parseFlags<T extends FlagOptions>(args: string[], options: T, { positionals = true }: { positionals?: boolean } = {}) {
  try {
    return parseArgs({ args: attachNegativeValues(args, options), options, allowPositionals: positionals, strict: true });
  } catch (error) {
    throw new UsageError(flagProblem(error as Error & { code?: string }));
  }
}

/** `-h`/`--help` anywhere before a `--` terminator: the command prints its help instead of running. */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/**
 * parseArgs reads `--k -1` as a flag `-1`; joined as `--k=-1` it is the value, which the flag's
 * own check then rejects with its range.
 */
function attachNegativeValues(args: string[], options: FlagOptions): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (arg.startsWith('--') && options[arg.slice(2)]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

/** parseArgs' messages span lines and name options as `'--k <value>'`; ours are one line. */
function flagProblem(error: Error & { code?: string }): string {
  const named = /'([^' ]+)/.exec(error.message)?.[1] ?? '';
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unknown argument "${named}"`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return `${named} needs a value`;
    default:
      return error.message.split('\n')[0]!;
  }
}

/** A whole number from `min` to `max`; `fallback` when the flag is absent. */
export function integerFlag(value: string | undefined, flag: string, min: number, max: number, fallback: number): number;
export function integerFlag(value: string | undefined, flag: string, min: number, max: number): number | undefined;
export function integerFlag(value: string | undefined, flag: string, min: number, max: number, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < min || parsed > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  return parsed;
}

export function deviceFlag(value: string | undefined): DeviceChoice {
  if (value === undefined) return 'auto';
  if (!isDeviceChoice(value)) throw new UsageError(`--device must be one of ${DEVICE_CHOICES.join(', ')}, got "${value}"`);
  return value;
}

/** `--mode keyword|dense|hybrid` of docent query; default hybrid. */
export function modeFlag(value: string | undefined): SearchMode {
  if (value === undefined) return 'hybrid';
  const mode = SEARCH_MODES.find((candidate) => candidate === value);
  if (!mode) throw new UsageError(`--mode must be one of ${SEARCH_MODES.join(', ')}, got "${value}"`);
  return mode;
}

/** `--device-id N`: the GPU index for CUDA and DirectML. */
export function deviceIdFlag(value: string | undefined): number | undefined {
  return integerFlag(value, '--device-id', 0, 64);
}

/** `--endpoint URL --model NAME`: the answer backend (null: retrieval-only); the key comes from DOCENT_API_KEY. */
export function backendFlags(endpoint: string | undefined, model: string | undefined): BackendConfig | null {
  if ((endpoint === undefined) !== (model === undefined)) throw new UsageError('--endpoint and --model go together');
  if (endpoint === undefined) return null;
  if (!/^https?:\/\//.test(endpoint)) throw new UsageError(`--endpoint must be an http(s) URL, got "${endpoint}"`);
  // The key never travels on the command line, where other users could read it in `ps`.
  return { baseURL: endpoint, model: model!, apiKey: process.env.DOCENT_API_KEY };
}
