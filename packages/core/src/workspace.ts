export { type ArchiveEntryInfo, findUnsafeEntry, type UnsafeEntry } from "./workspace/archive-safety.js";
export { extractWorkspace, extractWorkspaceStream } from "./workspace/extract.js";
export { DEFAULT_MAX_WORKSPACE_BYTES, formatCap, formatMegabytes, maxWorkspaceBytesFromEnv } from "./workspace/limits.js";
export { type PackedWorkspace, type PackOptions, packWorkspace } from "./workspace/pack.js";
export { sha256File } from "./workspace/sha256.js";
export { listWorkspace, type WorkspaceEntry } from "./workspace/walk.js";
