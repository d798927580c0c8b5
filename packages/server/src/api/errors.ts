import type { Socket } from "node:net";
import { type ErrorBody, FedmlError, ResultCode, ResultMessage } from "@fedml/core";
import type {
  FastifyBaseLogger,
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyServerOptions,
} from "fastify";
import { classifyStoreError } from "../store/store-errors.js";
import { requestLog } from "./request-log.js";

export function errorBody(code: number, message: string): ErrorBody {
  return { resultCode: code, resultMsg: ResultMessage[code] ?? "ERROR", error: message.split("\n")[0] };
}

const INVALID = ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS;

/** Messages of fastify's own 4xx that say little to a client. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "request body is larger than this server accepts",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported content-type for this route",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "content-length does not match the body",
};

/**
 * Errors fastify answers before any route or error handler runs (a URL that does not decode,
 * an HTTP request it cannot parse): passed to Fastify() so that these bodies carry a result
 * code as well.
 */
export const frameworkErrorOptions: Pick<FastifyServerOptions, "frameworkErrors" | "clientErrorHandler"> = {
  frameworkErrors: (err: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
    reply.status(400).send(errorBody(INVALID, `invalid request: ${err.message}`));
  },
  clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => {
    if (!socket.writable) return;
    const tooLarge = err.code === "HPE_HEADER_OVERFLOW";
    const status = tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request";
    const body = JSON.stringify(errorBody(INVALID, tooLarge ? "request headers are too large" : "malformed HTTP request"));
    socket.end(
      `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  },
};

/** The status and ErrorBody any error thrown while serving a request is answered with. */
export function errorAnswer(
  err: FastifyError | FedmlError,
  log: FastifyBaseLogger,
  url: string,
): { status: number; body: ErrorBody } {
  if (err instanceof FedmlError) return { status: err.httpStatus ?? 400, body: errorBody(err.resultCode, err.message) };
  if (err.validation) return { status: 400, body: errorBody(INVALID, `invalid request: ${err.message}`) };
  const store = classifyStoreError(err);
  if (store) {
    // Bad values are answered as such, but they mean a route let one through: say so.
    if (store.kind === "bad-value") log.warn({ err, url }, "the database refused a value");
    else log.error({ err, url }, "storage fault");
    return { status: store.httpStatus, body: errorBody(store.resultCode, store.message) };
  }
  const status = err.statusCode ?? 500;
  if (status >= 500) log.error({ err }, "request failed");
  const code = status < 500 ? INVALID : ResultCode.ERROR;
  const message = (err.code && FASTIFY_MESSAGES[err.code]) || err.message;
  return { status, body: errorBody(code, message) };
}

/** Every non-2xx answer is an ErrorBody with a result code and a one-line message. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | FedmlError, request, reply) => {
    const { status, body } = errorAnswer(err, requestLog(request), request.url);
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(errorBody(ResultCode.ERROR, `no route ${request.method} ${request.url.split("?")[0]}`));
  });
}
