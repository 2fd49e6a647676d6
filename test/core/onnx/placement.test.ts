import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseLibraryErrors, parsePlacement, probeSession } from '../../../src/core/onnx/placement.js';
import { DeviceFallbackError, describeDevice, preflight } from '../../../src/core/onnx/session.js';
import { OnnxGraphBuilder, TensorType } from '../../../src/core/onnx/onnxGraphBuilder.js';

// onnxruntime's VERBOSE placement lines (session_state.cc) for a session that leaves a LayerNorm
// on the CPU between CUDA nodes: the two Memcpy nodes are the copies that fallback costs.
const MIXED_LOG = [
  '2026-12-01 10:00:00.1 [V:onnxruntime:, session_state.cc:1388 VerifyEachNodeIsAssignedToAnEp] Node placements',
  '2026-12-01 10:00:00.1 [V:onnxruntime:, session_state.cc:1391 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CUDAExecutionProvider]. Number of nodes: 5',
  '2026-12-01 10:00:00.1 [V:onnxruntime:, session_state.cc:1394 VerifyEachNodeIsAssignedToAnEp]   MatMul (/layer/MatMul)',
  '2026-12-01 10:00:00.1 [V:onnxruntime:, session_state.cc:1394 VerifyEachNodeIsAssignedToAnEp]   MemcpyToHost (Memcpy)',
  '2026-12-01 10:00:00.1 [V:onnxruntime:, session_state.cc:1394 VerifyEachNodeIsAssignedToAnEp]   MemcpyFromHost (Memcpy_token_1)',
  '2026-12-01 10:00:00.1 [V:onnxruntime:, session_state.cc:1391 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 3',
  '\x1b[1;31m2026-12-01 10:00:00.1 [V:onnxruntime:, session_state.cc:1394 VerifyEachNodeIsAssignedToAnEp]   LayerNormalization (/layer/norm)\x1b[m',
  '2026-12-01 10:00:00.1 [V:onnxruntime:, session_state.cc:1394 VerifyEachNodeIsAssignedToAnEp]   Shape (/shape)',
  '2026-12-01 10:00:00.1 [V:onnxruntime:, session_state.cc:1394 VerifyEachNodeIsAssignedToAnEp]   Gather (/gather)',
];

test('placement: node counts per provider, ops left on the CPU, and the host copies between them', () => {
  const placement = parsePlacement(MIXED_LOG)!;
  assert.deepEqual(placement.nodes, { CUDAExecutionProvider: 5, CPUExecutionProvider: 3 });
  assert.deepEqual(placement.cpuOps, { LayerNormalization: 1, Shape: 1, Gather: 1 });
  assert.equal(placement.hostCopies, 2);
  assert.match(describeDevice({ provider: 'cuda', deviceId: 1, fallbackReasons: [], placement }), /^CUDA \(device 1; partly on the CPU: 3 of 8 nodes \(.*LayerNormalization×1.*\), 2 host copies per run\)$/);
  const error = new DeviceFallbackError('cuda', placement);
  assert.match(error.message, /CUDA cannot run this model by itself: onnxruntime placed 3 of 8 nodes on the CPU .* 2 time\(s\) per run/);
  assert.equal(parsePlacement(['nothing about placement']), undefined);
  assert.deepEqual(
    parseLibraryErrors([
      '\x1b[1;31m2026-12-01 [E:onnxruntime:onnxruntime-node, provider_bridge_ort.cc:2146 Create] ... Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory\x1b[m',
    ]),
    ['libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory'],
  );
});

test('the probe reads a real session log: every node of a CPU session is on the CPU, none copied', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'docent-probe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const g = new OnnxGraphBuilder();
  const x = g.input('x', TensorType.FLOAT, ['n', 4]);
  g.op('Relu', [g.op('MatMul', [x, g.floats([4, 4], new Float32Array(16).fill(0.5))])], {}, 'y');
  g.output('y', TensorType.FLOAT, ['n', 4]);
  writeFileSync(join(dir, 'model.onnx'), g.encode());
  const probe = await probeSession(join(dir, 'model.onnx'), { provider: 'cpu' });
  assert.equal(probe.created, true, probe.error);
  assert.deepEqual(probe.placement?.nodes, { CPUExecutionProvider: probe.placement?.nodes.CPUExecutionProvider });
  assert.ok((probe.placement?.nodes.CPUExecutionProvider ?? 0) >= 1);
  assert.equal(probe.placement?.hostCopies, 0);
  const broken = await probeSession(join(dir, 'missing.onnx'), { provider: 'cpu' });
  assert.equal(broken.created, false);
  assert.match(broken.error ?? '', /missing\.onnx|No such file|Load model/i);
});

test('preflight tells what a platform lacks without trying it', () => {
  assert.match(preflight('cuda', 'win32', 'x64')!, /no CUDA provider on win32-x64/);
  assert.match(preflight('cuda', 'darwin', 'arm64')!, /no CUDA provider/);
  assert.match(preflight('dml', 'linux', 'x64')!, /Windows build/);
  assert.match(preflight('coreml', 'darwin', 'x64')!, /macOS arm64/);
  assert.match(preflight('webgpu', 'linux', 'arm64')!, /no WebGPU provider on linux-arm64/);
});
