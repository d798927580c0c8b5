export { type AgentConfig, defaultAgentHome, readAgentConfig, writeAgentConfig } from "./config.js";
export { AgentClient, AgentStoppedError } from "./client.js";
export { type RunAgentOptions, runAgent } from "./daemon.js";
export { agentBinPath, spawnAgentDaemon, stopAgentDaemon } from "./daemon-control.js";
export { detectFacts, detectNvidiaGpus, parseNvidiaSmiCsv, parseSimulatedGpus } from "./facts/index.js";
export { type RegisterDeviceOptions, type UnregisterResult, registerDevice, unregisterDevice } from "./register.js";
export { LogShipper } from "./shipper.js";
export { createLineSplitter } from "./runner/line-splitter.js";
export { type SlurmSettings, slurmSettingsOf } from "./slurm/settings.js";
