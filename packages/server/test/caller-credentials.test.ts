// What of a dashboard caller's request reaches a serving job, and which cookie-signed
// inference requests are refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertDashboardCall, withoutDashboardCredentials } from "../src/serving/caller-credentials.js";

const token = "a".repeat(43);

test("the session cookie and the dashboard's header stay on the server; the job's own cookies go on", () => {
  const forwarded = withoutDashboardCredentials({
    cookie: `theme=dark; fedml_session=${token}; cart=3`,
    "x-fedml-dashboard": "1",
    "content-type": "application/json",
  });
  assert.deepEqual(forwarded, { cookie: "theme=dark; cart=3", "content-type": "application/json" });
  assert.deepEqual(withoutDashboardCredentials({ cookie: `fedml_session=${token}`, accept: "*/*" }), { accept: "*/*" });
});

test("a cookie-signed inference request must come from the dashboard's script, whatever its method", () => {
  const cookie = `fedml_session=${token}`;
  assert.throws(
    () => assertDashboardCall({ cookie }),
    (err: { httpStatus?: number; message: string }) => {
      assert.equal(err.httpStatus, 403);
      assert.match(err.message, /x-fedml-dashboard/);
      return true;
    },
  );
  assert.doesNotThrow(() => assertDashboardCall({ cookie, "x-fedml-dashboard": "1" }));
  // An API key, or no credentials at all (answered 401 by the key check), is not its business.
  assert.doesNotThrow(() => assertDashboardCall({ cookie, authorization: "Bearer k" }));
  assert.doesNotThrow(() => assertDashboardCall({}));
});
