import { FedmlError, type LogLine, ResultCode } from "@fedml/core";
import { errorBody } from "../api/errors.js";
import type { ServerContext } from "../context.js";
import { runTopic } from "../notify.js";
import { appendLogBatch } from "../store/logs.js";

/** A 409 body: the batch does not continue the stored lines; resend from ackedSeq + 1. */
export interface LogGap {
  gap: ReturnType<typeof errorBody> & { ackedSeq: number };
}

/**
 * An agent's batch of one part's lines: stored contiguously under the operator's log quotas
 * (see appendLogBatch). Answers the ack, or the gap to resend from.
 */
export async function storeLogBatch(
  ctx: ServerContext,
  runId: number,
  deviceId: number,
  lines: readonly LogLine[],
): Promise<{ ackedSeq: number } | LogGap> {
  const result = await appendLogBatch(ctx.db, runId, deviceId, lines, {
    runBytes: ctx.options.runLogBytes,
    userBytes: ctx.options.userLogBytes,
  });
  if (result.kind === "no_part") {
    throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `run ${runId} is not assigned to device ${deviceId}`, 404);
  }
  if (result.kind === "gap") {
    const first = Math.min(...lines.map((l) => l.seq));
    return {
      gap: {
        ...errorBody(
          ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
          `log batch starts at line ${first} but the server has ${result.ackedSeq}: resend from ${result.ackedSeq + 1}`,
        ),
        ackedSeq: result.ackedSeq,
      },
    };
  }
  if (lines.length > 0) ctx.hub.notify(runTopic(runId));
  return { ackedSeq: result.ackedSeq };
}
