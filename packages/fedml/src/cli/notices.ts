/** One-time notices the CLI prints on stderr, never mixed into a command's output. */
import type { EmbeddedStarted } from "../embedded/index.js";
import { printNote } from "./output.js";

let announced = false;

/** The embedded default started in the background: say what, where its logs are and how to stop it. */
export function announceEmbeddedStart(started: EmbeddedStarted): void {
  if (announced) return;
  announced = true;
  const agent = started.agentPid !== null ? ` and a local agent (pid ${started.agentPid}, log ${started.agentLog})` : "";
  printNote(
    `started the embedded FedML server at ${started.serverUrl} (pid ${started.serverPid}, log ${started.serverLog})${agent} ` +
      `in the background, state under ${started.home}; they keep running: fedml server stop stops them`,
  );
}
