import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setV8FlagUnlessGiven } from "../src/daemon-tiers.js";

describe("setV8FlagUnlessGiven", () => {
  test("leaves a flag given on node's command line as it is", () => {
    assert.equal(setV8FlagUnlessGiven("--interrupt-budget", 270336, ["--interrupt-budget=1000"]), false);
    assert.equal(setV8FlagUnlessGiven("--interrupt-budget", 270336, ["--import", "tsx", "--interrupt-budget"]), false);
    // V8 reads `_` in a flag's name as `-`.
    assert.equal(setV8FlagUnlessGiven("--interrupt-budget", 270336, ["--interrupt_budget=1000"]), false);
  });

  test("sets it otherwise, a longer flag of the same prefix being another flag", () => {
    assert.equal(setV8FlagUnlessGiven("--interrupt-budget", 270336, ["--import", "tsx"]), true);
    assert.equal(setV8FlagUnlessGiven("--interrupt-budget", 270336, ["--interrupt-budget-for-feedback-allocation=940"]), true);
  });
});
