/**
 * The agent package, loaded only by the commands that bind or run a device, so that every
 * other command starts without it.
 */
export type AgentModule = typeof import("@fedml/agent");

export function loadAgent(): Promise<AgentModule> {
  return import("@fedml/agent");
}
