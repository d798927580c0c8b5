import type { NetworkInterfaceInfo } from "node:os";

const WILDCARDS = new Set(["0.0.0.0", "::", ""]);

/**
 * The URL other replicas use to hand this one the inference requests for the agent tunnels it
 * holds. An explicit setting wins. A replica listening on every interface has no one address
 * in its listening URL, and 127.0.0.1 would send a peer on another machine to itself: it
 * offers its first non-internal IPv4 address instead (then IPv6), 127.0.0.1 only when it has none.
 * Pure: the interfaces come from `os.networkInterfaces()` at the edge.
 */
export function peerUrlOf(
  host: string,
  port: number,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>,
  explicit?: string,
): string {
  if (explicit) return explicit.replace(/\/+$/, "");
  const address = WILDCARDS.has(host) ? externalAddress(interfaces) : host;
  return `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
}

function externalAddress(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string {
  const external = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((i) => !i.internal && !(i.family === "IPv6" && i.address.startsWith("fe80:")));
  return (external.find((i) => i.family === "IPv4") ?? external[0])?.address ?? "127.0.0.1";
}
