import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { configPath, fedmlHome, readConfig, resolveClientConfig, writeConfig } from "../src/config.js";

const root = mkdtempSync(join(tmpdir(), "fedml-config-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshHome = () => join(root, `home-${n++}`);

describe("config", () => {
  test("FEDML_HOME wins over ~/.fedml; an empty value counts as unset", () => {
    assert.equal(fedmlHome({ FEDML_HOME: "/x/y" }), "/x/y");
    assert.match(fedmlHome({ FEDML_HOME: "" }), /\.fedml$/);
    assert.match(fedmlHome({}), /\.fedml$/);
  });

  test("a missing file reads as the embedded default with no key", () => {
    assert.deepEqual(readConfig(freshHome()), { serverUrl: null, apiKey: null });
  });

  test("the file is written with mode 0600 (it holds a key) and reads back", () => {
    const home = freshHome();
    writeConfig(home, { serverUrl: "http://10.0.0.1:8080", apiKey: "k1" });
    assert.equal(statSync(configPath(home)).mode & 0o777, 0o600);
    assert.deepEqual(readConfig(home), { serverUrl: "http://10.0.0.1:8080", apiKey: "k1" });
    writeConfig(home, { serverUrl: null, apiKey: "k2" });
    assert.equal(statSync(configPath(home)).mode & 0o777, 0o600);
    assert.deepEqual(readConfig(home), { serverUrl: null, apiKey: "k2" });
  });

  test("precedence: explicit option > environment > file, each field on its own", () => {
    const home = freshHome();
    writeConfig(home, { serverUrl: "http://file:1", apiKey: "file-key" });
    const env = { FEDML_SERVER_URL: "http://env:2/", FEDML_API_KEY: "env-key" };
    assert.deepEqual(resolveClientConfig({}, home, {}), { serverUrl: "http://file:1", apiKey: "file-key" });
    assert.deepEqual(resolveClientConfig({}, home, env), { serverUrl: "http://env:2", apiKey: "env-key" });
    assert.deepEqual(resolveClientConfig({ apiKey: "opt-key" }, home, env), { serverUrl: "http://env:2", apiKey: "opt-key" });
    assert.deepEqual(resolveClientConfig({ serverUrl: "http://opt:3" }, home, env), {
      serverUrl: "http://opt:3",
      apiKey: "env-key",
    });
    // Empty strings (e.g. FEDML_SERVER_URL= in a shell) fall through to the next source.
    assert.deepEqual(resolveClientConfig({ serverUrl: "" }, home, { FEDML_SERVER_URL: "", FEDML_API_KEY: "" }), {
      serverUrl: "http://file:1",
      apiKey: "file-key",
    });
  });

  test("no server anywhere means the embedded default (null)", () => {
    assert.equal(resolveClientConfig({}, freshHome(), {}).serverUrl, null);
  });

  test("a corrupt file is a one-line error naming the file", () => {
    const home = freshHome();
    writeConfig(home, { serverUrl: null, apiKey: null });
    writeFileSync(configPath(home), "{not json");
    assert.throws(
      () => readConfig(home),
      (err: Error & { resultCode?: number }) => {
        assert.equal(err.resultCode, 20);
        assert.match(err.message, /config\.json is not valid JSON/);
        return true;
      },
    );
  });
});
