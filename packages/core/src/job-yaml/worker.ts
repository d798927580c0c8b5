/**
 * Worker thread body of ParsePool: parses one job YAML per message. Runs apart from the
 * server's event loop so that a document that is slow to read costs this thread, which the
 * pool terminates at its deadline, and never the requests around it.
 */
import { parentPort } from "node:worker_threads";
import { FedmlError } from "../codes.js";
import { parseJobYaml } from "../job-yaml.js";
import type { ParseReply, ParseRequest } from "./pool.js";

parentPort?.on("message", (request: ParseRequest) => {
  let reply: ParseReply;
  try {
    reply = { id: request.id, spec: parseJobYaml(request.text, { path: request.path, limits: request.limits }) };
  } catch (err) {
    reply =
      err instanceof FedmlError
        ? { id: request.id, error: { resultCode: err.resultCode, message: err.message } }
        : { id: request.id, crash: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(reply);
});

// One parse before taking work, so that the deadline of the first real one does not pay for
// compiling the parser.
parseJobYaml("job: echo warm\ncomputing:\n  minimum_num_gpus: 1\ndata_args: {a: [1, 2]}\n");
parentPort?.postMessage("ready");
