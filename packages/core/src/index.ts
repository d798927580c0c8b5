export * from "./codes.js";
export * from "./statuses.js";
export * from "./models.js";
export * from "./jobspec.js";
export * from "./protocol.js";
