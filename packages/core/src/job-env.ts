/**
 * The variables the agent sets in a job's environment (the README's job environment), and
 * the default port of a distributed job's node 0. No schemas: the agent reads these without
 * loading TypeBox.
 */

export const JobEnv = {
  RUN_ID: "FEDML_CURRENT_RUN_ID",
  EDGE_ID: "FEDML_CURRENT_EDGE_ID",
  CLIENT_RANK: "FEDML_CLIENT_RANK",
  NUM_NODES: "FEDML_NUM_NODES",
  NODE_0_ADDR: "FEDML_NODE_0_ADDR",
  NODE_0_PORT: "FEDML_NODE_0_PORT",
  CUDA_VISIBLE_DEVICES: "CUDA_VISIBLE_DEVICES",
  MASTER_ADDR: "MASTER_ADDR",
  MASTER_PORT: "MASTER_PORT",
  WORLD_SIZE: "WORLD_SIZE",
  NODE_RANK: "NODE_RANK",
  NNODES: "NNODES",
  NPROC_PER_NODE: "NPROC_PER_NODE",
  /** Federated jobs: `host:port` of the FL server node (rank 0), the address edges dial. */
  FL_SERVER_ADDR: "FEDML_FL_SERVER_ADDR",
  /** Federated jobs: how many edge nodes (ranks 1..N) the run has. */
  NUM_EDGES: "FEDML_NUM_EDGES",
  /** Federated jobs: "server" on rank 0, "edge" on the others. */
  ROLE: "FEDML_ROLE",
  /** Serve / deploy jobs: the port the job's HTTP server must listen on. */
  SERVING_PORT: "FEDML_SERVING_PORT",
  /** Serve / deploy jobs: the endpoint id (LaunchResult.innerId). */
  ENDPOINT_ID: "FEDML_ENDPOINT_ID",
} as const;

export const DEFAULT_NODE_0_PORT = 40000;
