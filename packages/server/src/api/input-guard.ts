import { FedmlError, ResultCode } from "@fedml/core";
import type { FastifyInstance, FastifyRequest } from "fastify";

declare module "fastify" {
  interface FastifyContextConfig {
    /** "replace": NUL characters in the body's text become U+FFFD instead of refusing it
     *  (job output shipped by agents may hold any byte). */
    nulInText?: "refuse" | "replace";
  }
}

/**
 * Where the value holds a NUL character, as a path (`body.lines[3].text`); undefined when none.
 * PostgreSQL cannot store NUL in text while SQLite can: refusing it here, before any route,
 * makes both databases answer the same.
 */
function findNul(value: unknown, path: string, replace: boolean): string | undefined {
  if (typeof value === "string") return value.includes("\u0000") ? path : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (replace && typeof item === "string" && item.includes("\u0000")) value[i] = item.replaceAll("\u0000", "\uFFFD");
      else {
        const found = findNul(item, `${path}[${i}]`, replace);
        if (found) return found;
      }
    }
    return undefined;
  }
  // Parsed JSON and query objects only: raw bodies (streams, buffers) are the route's own.
  if (isPlainObject(value)) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (key.includes("\u0000")) return `${path} key`;
      const item = record[key];
      if (replace && typeof item === "string" && item.includes("\u0000")) record[key] = item.replaceAll("\u0000", "\uFFFD");
      else {
        const found = findNul(item, `${path}.${key}`, replace);
        if (found) return found;
      }
    }
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A query value for a numeric parameter that reads as a non-finite number ("1e400"): ajv
 * coerces it to Infinity and then lets it past `maximum`, so it is refused here.
 */
function nonFiniteNumber(request: FastifyRequest): string | undefined {
  const schema = request.routeOptions.schema?.querystring as { properties?: Record<string, { type?: string }> } | undefined;
  const query = request.query as Record<string, unknown> | undefined;
  if (!schema?.properties || !query) return undefined;
  for (const [name, property] of Object.entries(schema.properties)) {
    const value = query[name];
    if ((property.type === "integer" || property.type === "number") && typeof value === "string") {
      if (value.trim() !== "" && !Number.isFinite(Number(value)))
        return `query.${name} must be a finite number, got ${value.slice(0, 40)}`;
    }
  }
  return undefined;
}

/** Input rules every route shares, whatever its schema: no NUL in any text, no infinite numbers. */
export function installInputGuards(app: FastifyInstance): void {
  app.addHook("preValidation", async (request: FastifyRequest) => {
    const infinite = nonFiniteNumber(request);
    if (infinite) throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `invalid request: ${infinite}`, 400);
    const replace = request.routeOptions.config?.nulInText === "replace";
    // Params and query are records of text (fastify's parser builds them without Object's
    // prototype); the body is scanned only where it is parsed JSON.
    const found =
      findNul({ ...(request.params as object) }, "params", false) ??
      findNul({ ...(request.query as object) }, "query", false) ??
      findNul(request.body, "body", replace);
    if (found) {
      throw new FedmlError(
        ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
        `invalid request: ${found} holds a NUL character`,
        400,
      );
    }
  });
}
