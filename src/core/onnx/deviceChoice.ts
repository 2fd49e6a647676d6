/**
 * The devices `--device` and the settings name: a module of its own, so the CLI parses and
 * documents them without loading the session code (its child-process probes) a keyword query never uses.
 */
export const DEVICE_CHOICES = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'] as const;
export type DeviceChoice = (typeof DEVICE_CHOICES)[number];

export function isDeviceChoice(value: string): value is DeviceChoice {
  return (DEVICE_CHOICES as readonly string[]).includes(value);
}
