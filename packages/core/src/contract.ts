/**
 * The contract alone (codes, statuses, models, job spec types, protocol), without the job-YAML
 * parser and the workspace packer: importing those loads `yaml` and `tar` (about 18 MB of
 * resident memory), which a long-lived idle agent does not need.
 */
export * from "./codes.js";
export * from "./statuses.js";
export * from "./models.js";
export * from "./jobspec.js";
export * from "./protocol.js";
export * from "./backoff.js";
export * from "./server-list.js";
export * from "./container-job.js";
export * from "./api-key-source.js";
export * from "./tunnel.js";
export * from "./schema/kit.js";
