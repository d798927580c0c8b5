import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const serverBin = `${repoRoot}packages/server/dist/bin.js`;
export const agentBin = `${repoRoot}packages/agent/dist/bin.js`;
export const cliBin = `${repoRoot}packages/fedml/dist/cli/main.js`;
