/**
 * Launches for the throughput section: POST /runs as `launch` sends it (same route, bearer key
 * and JSON body), over one lean keep-alive connection per concurrent launch (`lean-http.ts`).
 * The load generator shares the benchmark's two cores with what it measures: node:http's
 * client cost it 0.24-0.48 ms of CPU per launch against 0.06-0.11 ms this way (three rounds
 * of 1,000 launches each, alternated, in one process), CPU the server and agents then lacked.
 */
import { type Cluster, type LaunchAnswer, launchBody, launchedRunId } from "./cluster.js";
import { LeanConnection } from "./lean-http.js";

export class LeanLauncher {
  private readonly idle: LeanConnection[] = [];
  private readonly all: LeanConnection[] = [];

  constructor(private readonly cluster: Cluster) {}

  /** Launches `yamlText` on an idle connection (a new one when all are busy); answers the run id. */
  async launch(yamlText: string): Promise<string> {
    const connection = this.idle.pop() ?? this.open();
    try {
      const answer = await connection.request("POST", "/api/v1/runs", launchBody(yamlText));
      if (answer.status < 200 || answer.status > 299) {
        throw new Error(`POST /api/v1/runs: ${answer.status} ${answer.body.slice(0, 200)}`);
      }
      return launchedRunId(JSON.parse(answer.body) as LaunchAnswer);
    } finally {
      this.idle.push(connection);
    }
  }

  close(): void {
    for (const connection of this.all) connection.close();
  }

  private open(): LeanConnection {
    const connection = new LeanConnection(this.cluster.server.url, this.cluster.apiKey);
    this.all.push(connection);
    return connection;
  }
}
