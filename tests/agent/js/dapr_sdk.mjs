// The official Dapr SDK for JavaScript (@dapr/dapr) against `coffer serve`
// over loopback TCP with an API token: a secret, the bulk read, and
// Dapr-shaped errors for a missing key and a key the token's client may not
// read. Usage: node dapr_sdk.mjs --cli PATH --plugins DIR. Exits non-zero on
// the first failed check; every wait has a deadline.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { DaprClient, CommunicationProtocolEnum } from "@dapr/dapr";

const args = process.argv.slice(2);
const option = (name) => {
  const at = args.indexOf(name);
  if (at < 0 || at + 1 >= args.length) throw new Error(`missing ${name}`);
  return args[at + 1];
};
const cli = option("--cli");
const plugins = option("--plugins");

const dir = mkdtempSync(join(tmpdir(), "coffer-dapr-"));
const values = { "VCS.GithubAdminPAT": "ghp-Dapr-Alpha-19c0", "VCS.GitlabAdminPAT": "glpat-Dapr-Bravo \"7\"" };
writeFileSync(
  join(dir, "secrets.env"),
  Object.entries(values)
    .map(([key, value]) => `${key.replace(".", "__")}=${JSON.stringify(value)}\n`)
    .join("") + "Email__SMTPPassword=smtp-Dapr-Charlie\n",
  { mode: 0o600 },
);
writeFileSync(
  join(dir, "coffer.json"),
  JSON.stringify({
    coffer: 1,
    plugin_dirs: [plugins],
    providers: { p: { plugin: "env_file", config: { path: join(dir, "secrets.env") } } },
    routes: { "*": "p" },
    clients: { "java-app": { allow: ["VCS.*"] } },
  }),
);
const token = "tok-Dapr-Sdk-4e51a9";
writeFileSync(join(dir, "token"), token + "\n", { mode: 0o600 });
chmodSync(join(dir, "token"), 0o600);

const log = join(dir, "agent.log");
const agent = spawn(
  cli,
  ["--policy", join(dir, "coffer.json"), "serve", "--socket", join(dir, "agent.sock"),
   "--listen", "127.0.0.1:0", "--token-file", `java-app=${join(dir, "token")}`],
  { stdio: ["ignore", "ignore", "pipe"] },
);
let agentLog = "";
agent.stderr.on("data", (chunk) => { agentLog += chunk; });

const deadline = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms).unref());

async function port() {
  const started = Date.now();
  while (Date.now() - started < 30000) {
    const match = agentLog.match(/tcp:127\.0\.0\.1:(\d+)/);
    if (match && agentLog.includes("ready")) return match[1];
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the agent did not start:\n${agentLog}`);
}

// The SDK's HTTP errors carry Dapr's body as JSON text in error_msg.
async function daprError(promise) {
  try {
    await promise;
  } catch (error) {
    const outer = JSON.parse(error.message);
    return { status: outer.status, body: JSON.parse(outer.error_msg) };
  }
  throw new Error("the call succeeded where it should have failed");
}

try {
  const client = new DaprClient({
    daprHost: "127.0.0.1",
    daprPort: await port(),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    daprApiToken: token,
  });
  const run = async () => {
    const one = await client.secret.get("coffer", "VCS.GitlabAdminPAT");
    assert.deepEqual(one, { "VCS.GitlabAdminPAT": values["VCS.GitlabAdminPAT"] });

    const bulk = await client.secret.getBulk("coffer");
    assert.deepEqual(bulk, Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { [k]: v }])));

    const missing = await daprError(client.secret.get("coffer", "VCS.GithubOrgOwnerPAT"));
    assert.equal(missing.status, 500);
    assert.equal(missing.body.errorCode, "ERR_SECRET_GET");
    assert.match(missing.body.message, /VCS\.GithubOrgOwnerPAT/);

    const denied = await daprError(client.secret.get("coffer", "Email.SMTPPassword"));
    assert.equal(denied.status, 403);
    assert.equal(denied.body.errorCode, "ERR_PERMISSION_DENIED");
    assert.doesNotMatch(JSON.stringify(denied.body), /smtp-Dapr/);

    const unknownStore = await daprError(client.secret.get("vault", "VCS.GithubAdminPAT"));
    assert.equal(unknownStore.body.errorCode, "ERR_SECRET_STORE_NOT_FOUND");
    await client.stop();
  };
  await Promise.race([run(), deadline(60000, "the Dapr SDK")]);
  assert.doesNotMatch(agentLog, /tok-Dapr-Sdk|ghp-Dapr|glpat-Dapr|smtp-Dapr/);
  console.log("dapr sdk: 5 checks passed");
} catch (error) {
  console.error(error);
  console.error(`the agent's log:\n${agentLog}`);
  process.exitCode = 1;
} finally {
  agent.kill("SIGTERM");
  await Promise.race([new Promise((resolve) => agent.on("exit", resolve)), deadline(30000, "agent exit")]).catch(() => agent.kill("SIGKILL"));
  rmSync(dir, { recursive: true, force: true });
}
