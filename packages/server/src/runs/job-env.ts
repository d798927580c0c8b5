import { DEFAULT_NODE_0_PORT, JobEnv } from "@fedml/core";

export interface EnvPart {
  deviceId: number;
  nodeIndex: number;
  gpuIndices: number[];
}

export interface EnvInputs {
  runId: number;
  runName: string;
  projectName: string;
  /** This device's part. */
  part: EnvPart;
  /** Every part of the run, this one included. */
  parts: EnvPart[];
  /** Address of each device, by id (FEDML_NODE_0_ADDR names node 0's). */
  addressOf: (deviceId: number) => string;
  extraEnv: Record<string, string>;
}

/** The environment a job gets from the server: FedML's names plus torchrun's. Pure. */
export function computeJobEnv(inputs: EnvInputs): Record<string, string> {
  const { part, parts } = inputs;
  const node0 = parts.find((p) => p.nodeIndex === 0) ?? part;
  const node0Addr = inputs.addressOf(node0.deviceId) || "127.0.0.1";
  const node0Port = String(DEFAULT_NODE_0_PORT + (inputs.runId % 10000));
  const procs = (p: EnvPart) => Math.max(1, p.gpuIndices.length);
  return {
    ...inputs.extraEnv,
    [JobEnv.RUN_ID]: String(inputs.runId),
    [JobEnv.EDGE_ID]: String(part.deviceId),
    [JobEnv.CLIENT_RANK]: String(part.nodeIndex + 1),
    [JobEnv.NUM_NODES]: String(parts.length),
    [JobEnv.NODE_0_ADDR]: node0Addr,
    [JobEnv.NODE_0_PORT]: node0Port,
    [JobEnv.CUDA_VISIBLE_DEVICES]: part.gpuIndices.join(","),
    [JobEnv.MASTER_ADDR]: node0Addr,
    [JobEnv.MASTER_PORT]: node0Port,
    [JobEnv.NODE_RANK]: String(part.nodeIndex),
    [JobEnv.NNODES]: String(parts.length),
    [JobEnv.NPROC_PER_NODE]: String(procs(part)),
    [JobEnv.WORLD_SIZE]: String(parts.reduce((sum, p) => sum + procs(p), 0)),
    FEDML_RUN_NAME: inputs.runName,
    FEDML_PROJECT_NAME: inputs.projectName,
  };
}
