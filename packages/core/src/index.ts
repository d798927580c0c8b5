export * from "./codes.js";
export * from "./statuses.js";
export * from "./models.js";
export * from "./jobspec.js";
export * from "./protocol.js";
export * from "./job-yaml.js";
export * from "./workspace.js";
export * from "./log-pager.js";
