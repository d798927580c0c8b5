import { FedmlError, ResultCode } from "@fedml/core";
import { hashSecret } from "../auth/keys.js";
import type { ServerContext } from "../context.js";
import type { UserRow } from "../store/users.js";
import { type WireBody, text } from "./body.js";

/** The user whose API key the body carries (the client has no auth header), as the native API checks a bearer key. */
export async function findWireUser(ctx: ServerContext, body: WireBody, field = "apiKey"): Promise<UserRow | undefined> {
  const key = text(body, field, { optional: true, max: 512 });
  return key ? ctx.keys.userOfKey(hashSecret(key)) : undefined;
}

export async function wireUser(ctx: ServerContext, body: WireBody, field = "apiKey"): Promise<UserRow> {
  const user = await findWireUser(ctx, body, field);
  if (!user) throw new FedmlError(ResultCode.ERROR, `API key (${field}) not accepted by ${ctx.publicUrl()}`, 401);
  return user;
}
