import { FedmlError, type LogLine, type LogTextBatch, ResultCode } from "@fedml/core";
import { errorBody } from "../api/errors.js";
import type { ServerContext } from "../context.js";
import { runTopic } from "../notify.js";
import { type LogAppendResult, type LogQuota, appendLogBatch, appendLogText } from "../store/logs.js";

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
  const result = await appendLogBatch(ctx.db, runId, deviceId, lines, quotaOf(ctx));
  const first = lines.length > 0 ? Math.min(...lines.map((l) => l.seq)) : 0;
  return answer(ctx, runId, deviceId, result, first, lines.length > 0);
}

/** The same for lines sent as one text. */
export async function storeLogText(
  ctx: ServerContext,
  runId: number,
  deviceId: number,
  batch: LogTextBatch,
): Promise<{ ackedSeq: number } | LogGap> {
  const result = await appendLogText(ctx.db, runId, deviceId, batch, quotaOf(ctx));
  return answer(ctx, runId, deviceId, result, batch.firstSeq, batch.text.length > 0);
}

const quotaOf = (ctx: ServerContext): LogQuota => ({ runBytes: ctx.options.runLogBytes, userBytes: ctx.options.userLogBytes });

function answer(
  ctx: ServerContext,
  runId: number,
  deviceId: number,
  result: LogAppendResult,
  first: number,
  any: boolean,
): { ackedSeq: number } | LogGap {
  if (result.kind === "no_part") {
    throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `run ${runId} is not assigned to device ${deviceId}`, 404);
  }
  if (result.kind === "gap") {
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
  // After the commit: a follower woken now reads the lines.
  if (any) ctx.hub.notify(runTopic(runId));
  return { ackedSeq: result.ackedSeq };
}
