/** A real control plane and real agents on loopback, as the end-to-end tests start them. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AgentProcess,
  type ServerProcess,
  createUser,
  startAgent,
  startServer,
  waitForHello,
} from "../../test/support/processes.js";
import { call } from "./http.js";

export interface Cluster {
  server: ServerProcess;
  apiKey: string;
  agents: AgentProcess[];
  root: string;
  stop(): Promise<void>;
}

/** `cpuProfDir`: every process writes a V8 CPU profile there when it exits (node --cpu-prof). */
export async function startCluster(agentCount: number, agentArgs: string[] = [], cpuProfDir?: string): Promise<Cluster> {
  const root = mkdtempSync(join(tmpdir(), "fedml-bench-"));
  const nodeArgs = cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", cpuProfDir] : [];
  const server = await startServer(join(root, "server"), { extraArgs: ["--log-level", "warn"], nodeArgs });
  const apiKey = await createUser(server, "bench");
  const agents: AgentProcess[] = [];
  for (let i = 0; i < agentCount; i++) {
    agents.push(await startAgent(server.url, apiKey, join(root, `agent-${i}`), ["--name", `bench-${i}`, ...agentArgs], nodeArgs));
  }
  // Every agent running before anything is timed: the last one started would otherwise still
  // be starting (its start-up CPU counted, its job slots idle) as the first jobs go out.
  await Promise.all(agents.map((agent) => waitForHello(agent)));
  return {
    server,
    apiKey,
    agents,
    root,
    async stop() {
      await Promise.all(agents.map((a) => a.stop()));
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface LaunchAnswer {
  resultCode: number;
  resultMsg: string;
  runId: string | null;
}

/** POST /runs with a YAML text and no workspace: what `fedml launch` sends for such a job. */
export async function launch(cluster: Cluster, yamlText: string): Promise<string> {
  return launchedRunId(
    await call<LaunchAnswer>(`${cluster.server.url}/api/v1/runs`, cluster.apiKey, "POST", launchBody(yamlText)),
  );
}

/** The body of POST /runs for a YAML text and no workspace. */
export function launchBody(yamlText: string): { yamlText: string; workspaceSha256: null } {
  return { yamlText, workspaceSha256: null };
}

/** The launched run's id; throws unless the server took the launch (queued counts as taken). */
export function launchedRunId(answer: LaunchAnswer): string {
  if ((answer.resultCode !== 0 && answer.resultCode !== 5) || !answer.runId) {
    throw new Error(`launch failed: ${answer.resultCode} ${answer.resultMsg}`);
  }
  return answer.runId;
}

interface LogLinesAnswer {
  done: boolean;
  runStatus: string;
  lastSeq: number;
}

/** Follows a run's logs (as `fedml launch` does) until it has ended; throws unless it FINISHED. */
export async function followToFinished(cluster: Cluster, runId: string): Promise<void> {
  for (let afterSeq = 0; ; ) {
    const answer = await call<LogLinesAnswer>(
      `${cluster.server.url}/api/v1/runs/${runId}/log-lines?afterSeq=${afterSeq}&waitMs=20000`,
      cluster.apiKey,
    );
    afterSeq = answer.lastSeq;
    if (answer.done) {
      if (answer.runStatus !== "FINISHED") throw new Error(`run ${runId} ended ${answer.runStatus}`);
      return;
    }
  }
}

export interface RunSummary {
  runId: string;
  status: string;
  endedTime: number | null;
  startedTime: number | null;
  createdTime: number;
}

export async function listRuns(cluster: Cluster, runId?: string): Promise<RunSummary[]> {
  const query = runId === undefined ? "" : `?runId=${encodeURIComponent(runId)}`;
  const body = await call<{ runList: RunSummary[] }>(`${cluster.server.url}/api/v1/runs${query}`, cluster.apiKey);
  return body.runList;
}
