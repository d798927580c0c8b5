/** CPU, memory, OS and the address other nodes of a run reach this machine at. */
import os from "node:os";

export interface SystemFacts {
  hostname: string;
  osType: string;
  osVersion: string;
  cpuCount: number;
  memoryBytes: number;
}

export function systemFacts(): SystemFacts {
  return {
    hostname: os.hostname(),
    osType: os.type(),
    osVersion: os.release(),
    cpuCount: os.availableParallelism?.() ?? os.cpus().length,
    memoryBytes: os.totalmem(),
  };
}

/** The configured address, else the first non-internal IPv4, else loopback. */
export function advertisedAddress(configured: string | null, interfaces = os.networkInterfaces()): string {
  if (configured) return configured;
  for (const list of Object.values(interfaces)) {
    for (const iface of list ?? []) {
      if (iface.family === "IPv4" && !iface.internal) return iface.address;
    }
  }
  return "127.0.0.1";
}
