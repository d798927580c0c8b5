import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type DeviceLogCount, FedmlError, type LogRange, planLogPage, ResultCode } from "../src/index.js";

/** The obvious way: write every line out, slice the page, and group it back into runs. */
function naivePage(devices: readonly DeviceLogCount[], pageNum: number, pageSize: number) {
  const lines = devices.flatMap((d) => Array.from({ length: d.count }, (_, i) => ({ deviceId: d.deviceId, seq: i + 1 })));
  const page = lines.slice((pageNum - 1) * pageSize, pageNum * pageSize);
  const ranges: LogRange[] = [];
  for (const line of page) {
    const last = ranges.at(-1);
    if (last && last.deviceId === line.deviceId && last.toSeq + 1 === line.seq) last.toSeq = line.seq;
    else ranges.push({ deviceId: line.deviceId, fromSeq: line.seq, toSeq: line.seq });
  }
  return { totalLines: lines.length, totalPages: Math.ceil(lines.length / pageSize), pageNum, ranges };
}

const devicesArb = fc
  .array(fc.nat({ max: 40 }), { maxLength: 6 })
  .map((counts) => counts.map((count, i) => ({ deviceId: `dev-${i}`, count })));

describe("planLogPage", () => {
  test("matches materialising the lines (property)", () => {
    fc.assert(
      fc.property(devicesArb, fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 50 }), (devices, pageNum, pageSize) => {
        assert.deepEqual(planLogPage(devices, pageNum, pageSize), naivePage(devices, pageNum, pageSize));
      }),
      { numRuns: 500 },
    );
  });

  test("pages cover every line exactly once, in rank order (property)", () => {
    fc.assert(
      fc.property(devicesArb, fc.integer({ min: 1, max: 20 }), (devices, pageSize) => {
        const { totalPages, totalLines } = planLogPage(devices, 1, pageSize);
        let covered = 0;
        for (let p = 1; p <= totalPages; p++) {
          for (const r of planLogPage(devices, p, pageSize).ranges) covered += r.toSeq - r.fromSeq + 1;
        }
        assert.equal(covered, totalLines);
      }),
    );
  });

  test("a worked example across devices", () => {
    const devices = [
      { deviceId: "a", count: 3 },
      { deviceId: "b", count: 0 },
      { deviceId: "c", count: 5 },
    ];
    assert.deepEqual(planLogPage(devices, 1, 2), {
      totalLines: 8,
      totalPages: 4,
      pageNum: 1,
      ranges: [{ deviceId: "a", fromSeq: 1, toSeq: 2 }],
    });
    assert.deepEqual(planLogPage(devices, 2, 2).ranges, [
      { deviceId: "a", fromSeq: 3, toSeq: 3 },
      { deviceId: "c", fromSeq: 1, toSeq: 1 },
    ]);
    assert.deepEqual(planLogPage(devices, 4, 2).ranges, [{ deviceId: "c", fromSeq: 4, toSeq: 5 }]);
    assert.deepEqual(planLogPage(devices, 5, 2).ranges, []);
  });

  test("an empty log has no pages", () => {
    assert.deepEqual(planLogPage([], 1, 10), { totalLines: 0, totalPages: 0, pageNum: 1, ranges: [] });
  });

  test("bad page numbers and sizes -> FedmlError(3)", () => {
    for (const [pageNum, pageSize] of [
      [0, 10],
      [1, 0],
      [-1, 10],
      [1, -5],
      [1.5, 10],
      [1, Number.NaN],
    ]) {
      assert.throws(
        () => planLogPage([{ deviceId: "a", count: 3 }], pageNum, pageSize),
        (err: unknown) => err instanceof FedmlError && err.resultCode === ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      );
    }
  });
});
