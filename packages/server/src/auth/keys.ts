import * as crypto from "node:crypto";

export const API_KEY_PREFIX = "fedml_";
export const DEVICE_TOKEN_PREFIX = "fdev_";

function newSecret(prefix: string): string {
  return prefix + crypto.randomBytes(32).toString("base64url");
}

export const newApiKey = (): string => newSecret(API_KEY_PREFIX);
export const newDeviceToken = (): string => newSecret(DEVICE_TOKEN_PREFIX);

/**
 * Node 20.12's one-shot hash, where there is one: every request of every agent hashes its
 * token, and it makes no Hash object (a native handle the GC must finalise) per request.
 */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: "hex") => string }).hash;

/** Keys are stored only as this hash; a leaked database does not leak usable keys. */
export function hashSecret(secret: string): string {
  return oneShotHash ? oneShotHash("sha256", secret, "hex") : crypto.createHash("sha256").update(secret, "utf8").digest("hex");
}
