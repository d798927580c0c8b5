import assert from "node:assert/strict";
import { test } from "node:test";
import { accruedCost, hourlyCommitment } from "../src/billing/commitments.js";
import type { ReservationRow } from "../src/store/reservations.js";
import type { BilledPartRow } from "../src/store/runs.js";

const HOUR = 3_600_000;

function part(over: Partial<BilledPartRow>): BilledPartRow {
  return {
    run_id: 1,
    device_id: 10,
    node_index: 0,
    gpu_indices_json: "[0]",
    started_at: 0,
    ended_at: null,
    stop_requested_at: null,
    runtime_ms: null,
    price_per_gpu_hour_micros: 1_000_000,
    owner_id: 7,
    cluster_id: null,
    ...over,
  };
}

const hold: ReservationRow = {
  id: 1,
  cluster_id: 3,
  device_id: 20,
  payer_id: 7,
  payee_id: 8,
  price_per_gpu_hour_micros: 2_000_000,
  gpu_count: 4,
  started_at: 0,
  ended_at: null,
};

test("commitments: every billing part, plus each held device whole; a part on a held device counts once", () => {
  const parts = [
    part({ run_id: 1, gpu_indices_json: "[0,1]" }), // $2/h
    part({ run_id: 2, device_id: 11 }), // $1/h
    part({ run_id: 3, device_id: 20, cluster_id: 3, price_per_gpu_hour_micros: 2_000_000 }), // covered by the hold
  ];
  // Whole micro-dollars: $5/h, then $11/h; half an hour of it is exactly $5.50.
  assert.equal(hourlyCommitment(parts, []), 5_000_000);
  assert.equal(hourlyCommitment(parts, [hold]), 11_000_000);
  assert.equal(accruedCost(parts, [hold], HOUR / 2), 5_500_000);
});
