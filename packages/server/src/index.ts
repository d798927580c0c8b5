export { buildServer, type RunningServer } from "./app.js";
export { type ServerOptions, resolveOptions, defaultHome } from "./config.js";
export { matchJob, type CandidateDevice, type JobNeeds, type MatchResult } from "./scheduler/matcher.js";
export { CandidateIndex } from "./scheduler/candidate-index.js";
export { matchIndexed } from "./scheduler/indexed-match.js";
export { gpuMatchesType, normalizeGpuName } from "./scheduler/gpu-names.js";
export { readServerRecord, type ServerRecord } from "./server-record.js";
