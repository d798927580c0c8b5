// An agent given several server URLs (replicas of one server) moves to the next when the one
// in use stops answering or answers 502/503/504, and stays on one that answers.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { parseServerUrls } from "@fedml/core";
import { AgentClient } from "../src/client.js";
import { StandInServer } from "./stand-in-server.js";

const a = new StandInServer();
const b = new StandInServer();
after(async () => {
  await a.stop();
  await b.stop();
});

const facts = { activeRunIds: [] } as unknown as Parameters<AgentClient["hello"]>[0];

test("the client fails over from a dead replica and from one answering 503, then sticks", async () => {
  await a.start();
  await b.start();
  const client = new AgentClient({
    serverUrl: `${a.url}, ${b.url}/`,
    deviceToken: a.token,
    backoff: { initialMs: 5, maxMs: 20 },
  });
  await client.hello(facts);
  assert.equal(client.serverUrl, a.url);
  assert.equal(a.hellos.length, 1);

  await a.stop();
  await client.hello(facts);
  assert.equal(client.serverUrl, b.url);
  assert.equal(b.hellos.length, 1);

  // A is back, but B still answers: the client stays on B.
  await a.start();
  await client.hello(facts);
  assert.equal(client.serverUrl, b.url);
  assert.equal(a.hellos.length, 1);

  b.intercept = () => ({ status: 503, body: { error: "draining" } });
  await client.hello(facts);
  assert.equal(client.serverUrl, a.url);
  assert.equal(a.hellos.length, 2);
});

test("server lists: commas or spaces, trailing slashes dropped, a bad URL named", () => {
  assert.deepEqual(parseServerUrls("http://a:1/, http://b:2  https://c"), ["http://a:1", "http://b:2", "https://c"]);
  assert.throws(() => parseServerUrls("http://a:1,ftp://b"), /"ftp:\/\/b" is not an http/);
  assert.throws(() => parseServerUrls("http://a:1,b"), /"b" is not a server URL/);
});
