import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FedmlError, parseMoney, ResultCode } from "../src/index.js";

describe("parseMoney", () => {
  test("reads prices as users write them", () => {
    assert.equal(parseMoney("$1.75"), 1.75);
    assert.equal(parseMoney("1.75"), 1.75);
    assert.equal(parseMoney("$3000"), 3000);
    assert.equal(parseMoney(" $ 12 "), 12);
    assert.equal(parseMoney("$3,000.50"), 3000.5);
    assert.equal(parseMoney(".5"), 0.5);
    assert.equal(parseMoney(2.25), 2.25);
    assert.equal(parseMoney(0), 0);
  });

  test("throws FedmlError(17) on garbage", () => {
    for (const bad of [
      "",
      "$",
      "abc",
      "$-1",
      "-1",
      "1.2.3",
      "$1,00",
      "1e3",
      -1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      null,
      undefined,
      true,
      {},
    ]) {
      assert.throws(
        () => parseMoney(bad),
        (err: unknown) =>
          err instanceof FedmlError &&
          err.resultCode === ResultCode.LAUNCH_JOB_STATUS_INVALID &&
          /^not a price: /.test(err.message),
        `should refuse ${String(bad)}`,
      );
    }
  });
});
