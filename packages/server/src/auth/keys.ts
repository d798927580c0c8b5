import { createHash, randomBytes } from "node:crypto";

export const API_KEY_PREFIX = "fedml_";
export const DEVICE_TOKEN_PREFIX = "fdev_";

function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString("base64url");
}

export const newApiKey = (): string => newSecret(API_KEY_PREFIX);
export const newDeviceToken = (): string => newSecret(DEVICE_TOKEN_PREFIX);

/** Keys are stored only as this hash; a leaked database does not leak usable keys. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}
