/** Real full disks for tests: a small tmpfs in a private mount namespace, never the machine's mounts. */
import { spawnSync } from 'node:child_process';

/** Whether a private mount namespace (unshare -rm) can mount a tmpfs here. */
export function canMountTmpfs(): boolean {
  const probe = spawnSync('unshare', ['-rm', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d"; rc=$?; rmdir "$d"; exit $rc'], { encoding: 'utf8' });
  return probe.status === 0;
}
