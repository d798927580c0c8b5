import { type ErrorBody, FedmlError, ResultCode, ResultMessage } from "@fedml/core";
import type { FastifyError, FastifyInstance } from "fastify";

export function errorBody(code: number, message: string): ErrorBody {
  return { resultCode: code, resultMsg: ResultMessage[code] ?? "ERROR", error: message.split("\n")[0] };
}

/** Every non-2xx answer is an ErrorBody with a result code and a one-line message. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | FedmlError, request, reply) => {
    if (err instanceof FedmlError) {
      return reply.status(err.httpStatus ?? 400).send(errorBody(err.resultCode, err.message));
    }
    if (err.validation) {
      return reply
        .status(400)
        .send(errorBody(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `invalid request: ${err.message}`));
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) request.log.error({ err }, "request failed");
    const code = status < 500 ? ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS : ResultCode.ERROR;
    const message = err.code === "FST_ERR_CTP_BODY_TOO_LARGE" ? "request body is larger than this server accepts" : err.message;
    return reply.status(status).send(errorBody(code, message));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(errorBody(ResultCode.ERROR, `no route ${request.method} ${request.url.split("?")[0]}`));
  });
}
