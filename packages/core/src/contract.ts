/**
 * The contract as the agent needs it at run time: codes, statuses, paths, the job
 * environment, backoff, server lists, tunnels, and the wire types. It loads neither the
 * job-YAML parser and the workspace packer (`yaml` and `tar`, about 18 MB of resident memory)
 * nor the TypeBox schemas behind the types (about 13 MB and 120 ms of CPU at start): the
 * server validates with those; a long-lived agent only needs their types, which cost nothing
 * at run time.
 */
export * from "./codes.js";
export * from "./statuses.js";
export * from "./paths.js";
export * from "./job-env.js";
export * from "./backoff.js";
export * from "./server-list.js";
export * from "./container-job.js";
export * from "./api-key-source.js";
export * from "./tunnel.js";
export type * from "./models.js";
export type * from "./jobspec.js";
export type * from "./protocol.js";
