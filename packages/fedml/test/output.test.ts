import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FedmlError } from "@fedml/core";
import { formatDuration, formatError, formatTable } from "../src/cli/output.js";

describe("CLI output", () => {
  test("tables pad each column to its widest cell", () => {
    const text = formatTable(
      [
        { id: "1", name: "short", cost: "0.10" },
        { id: "22", name: "a longer name", cost: "12.50" },
      ],
      [
        { header: "ID", value: (r) => r.id },
        { header: "NAME", value: (r) => r.name },
        { header: "COST", value: (r) => r.cost, alignRight: true },
      ],
    );
    assert.equal(text, ["ID  NAME            COST", "1   short           0.10", "22  a longer name  12.50"].join("\n"));
  });

  test("an empty table is its header", () => {
    assert.equal(formatTable([], [{ header: "ID", value: (r: { id: string }) => r.id }]), "ID");
  });

  test("errors are one line with the code and its name", () => {
    assert.equal(
      formatError(new FedmlError(31, "job YAML not found: /x.yaml")),
      "error: job YAML not found: /x.yaml (code 31 JOB_CONFIG_NOT_EXISTS)",
    );
    assert.equal(formatError(new Error("two\n  lines")), "error: two lines (code 20 ERROR)");
  });

  test("durations read as people say them", () => {
    assert.equal(formatDuration(0), "-");
    assert.equal(formatDuration(4_400), "4s");
    assert.equal(formatDuration(125_000), "2m05s");
    assert.equal(formatDuration(3_720_000), "1h02m");
  });
});
