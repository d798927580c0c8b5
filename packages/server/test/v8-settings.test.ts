// Which heap-growth flag the server sets at start: its own setting when given (0: none), else
// its default, unless node's command line gave the V8 flag itself.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_HEAP_GROWTH_PERCENT, heapGrowthFlag } from "../src/v8-settings.js";

test("heap growth: the server's setting, else its default unless node's command line gave the flag", () => {
  assert.equal(heapGrowthFlag(undefined, []), `--heap-growing-percent=${DEFAULT_HEAP_GROWTH_PERCENT}`);
  assert.equal(heapGrowthFlag(undefined, ["--heap-growing-percent=30"]), null);
  assert.equal(heapGrowthFlag(undefined, ["--heap_growing_percent=30"]), null);
  assert.equal(
    heapGrowthFlag(undefined, ["--heap-growing-percent-x=1"]),
    `--heap-growing-percent=${DEFAULT_HEAP_GROWTH_PERCENT}`,
  );
  assert.equal(heapGrowthFlag(80, ["--heap-growing-percent=30"]), "--heap-growing-percent=80");
  assert.equal(heapGrowthFlag(0, []), null);
});
