// Keys and device tokens are stored as their SHA-256: the hash must stay what databases
// already hold, whichever of node's hash functions computes it.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { hashSecret, newApiKey, newDeviceToken } from "../src/auth/keys.js";

test("keys: a secret's stored hash is its SHA-256 in hex, UTF-8 encoded", () => {
  assert.equal(hashSecret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  for (const secret of [newApiKey(), newDeviceToken(), "clé-ключ-鍵", ""]) {
    assert.equal(hashSecret(secret), createHash("sha256").update(secret, "utf8").digest("hex"));
  }
});
