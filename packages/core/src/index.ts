export * from "./codes.js";
export * from "./statuses.js";
export * from "./models.js";
export * from "./jobspec.js";
export * from "./protocol.js";
export * from "./job-yaml.js";
export * from "./workspace.js";
export * from "./log-pager.js";
export * from "./marketplace.js";
<<<<<<< HEAD
export * from "./backoff.js";
export * from "./server-list.js";
=======
export * from "./tunnel.js";
>>>>>>> main
