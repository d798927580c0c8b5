import assert from "node:assert/strict";
import type { NetworkInterfaceInfo } from "node:os";
import { test } from "node:test";
import { peerUrlOf } from "../src/serving/peer-url.js";

const lo: NetworkInterfaceInfo = {
  address: "127.0.0.1",
  netmask: "255.0.0.0",
  family: "IPv4",
  mac: "00:00:00:00:00:00",
  internal: true,
  cidr: "127.0.0.1/8",
};
const v4 = (address: string): NetworkInterfaceInfo => ({ ...lo, address, internal: false, cidr: `${address}/24` });
const v6 = (address: string): NetworkInterfaceInfo => ({
  ...lo,
  address,
  family: "IPv6",
  scopeid: 0,
  internal: false,
  cidr: `${address}/64`,
});

test("a replica on one address is reached there; --peer-url wins over everything", () => {
  assert.equal(peerUrlOf("10.1.2.3", 8732, { eth0: [v4("10.1.2.3")] }), "http://10.1.2.3:8732");
  assert.equal(peerUrlOf("::1", 8732, {}), "http://[::1]:8732");
  assert.equal(
    peerUrlOf("0.0.0.0", 8732, { eth0: [v4("10.1.2.3")] }, "http://replica-a.internal:9000/"),
    "http://replica-a.internal:9000",
  );
});

test("a replica on every interface offers its first external IPv4 address, not 127.0.0.1", () => {
  const interfaces = { lo: [lo], eth0: [v6("fe80::1"), v6("2001:db8::7"), v4("192.0.2.2")], eth1: [v4("198.51.100.9")] };
  assert.equal(peerUrlOf("0.0.0.0", 8732, interfaces), "http://192.0.2.2:8732");
  assert.equal(peerUrlOf("::", 8732, interfaces), "http://192.0.2.2:8732");
  assert.equal(peerUrlOf("0.0.0.0", 8732, { lo: [lo], eth0: [v6("fe80::1"), v6("2001:db8::7")] }), "http://[2001:db8::7]:8732");
  assert.equal(peerUrlOf("0.0.0.0", 8732, { lo: [lo] }), "http://127.0.0.1:8732");
});
