/** Where onnxruntime placed a session's nodes (parsed from its log by placement.ts). A pure type module: front ends read it too. */
export interface Placement {
  /** Nodes per execution provider, as onnxruntime names them (CUDAExecutionProvider, …). */
  nodes: Record<string, number>;
  /** Op types of the nodes left on the CPU while another provider was asked for, with counts. */
  cpuOps: Record<string, number>;
  /**
   * MemcpyToHost/MemcpyFromHost nodes. onnxruntime inserts them only where a tensor produced
   * on one device is consumed on the other, so any at all means activations travel between
   * the device and the host inside every run: the session falls back node by node. Shape
   * arithmetic that onnxruntime keeps on the CPU on purpose needs no copy and does not count.
   */
  hostCopies: number;
}
