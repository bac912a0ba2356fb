// Fidelity check: the official Azure SDK for JavaScript (@azure/keyvault-secrets
// and @azure/identity, versions pinned in package.json) sets, gets, lists,
// updates and deletes secrets against coffer-azure-emulator, authenticating
// with WorkloadIdentityCredential, ClientSecretCredential,
// ManagedIdentityCredential (IMDS) and a static token credential.
//
// Usage: node fidelity.mjs --emulator PATH/coffer-azure-emulator
// It starts the emulator, then runs itself again with NODE_EXTRA_CA_CERTS set
// to the emulator's CA (Node reads that variable only at start-up).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID = "11111111-2222-3333-4444-555555555555";
const CLIENT_SECRET = "fidelity-client-secret";

if (!existsSync(join(here, "node_modules", "@azure", "keyvault-secrets")) ||
    !existsSync(join(here, "node_modules", "@azure", "identity"))) {
  console.error(`not ok - the Azure SDK for JavaScript is not installed in ${here}/node_modules: ` +
                "run scripts/test (it runs `npm ci` there), or `npm ci` in that folder");
  process.exit(1);
}

if (process.env.COFFER_EMULATOR_ENDPOINT) {
  await checks();
} else {
  await launch();
}

async function launch() {
  const at = process.argv.indexOf("--emulator");
  const program = at > 0 ? process.argv[at + 1] : process.env.COFFER_AZURE_EMULATOR;
  if (!program || !existsSync(program)) {
    console.error(`not ok - emulator binary not found (${program}); pass --emulator PATH`);
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), "coffer-js-fidelity-"));
  const tokenFile = join(dir, "federated-token");
  const secretFile = join(dir, "client-secret");
  writeFileSync(tokenFile, "fidelity-assertion-1");
  writeFileSync(secretFile, CLIENT_SECRET);
  const emulator = spawn(program, ["--state-dir", join(dir, "state"), "--tenant", TENANT,
                                   "--client-id", CLIENT_ID, "--token-file", tokenFile,
                                   "--client-secret-file", secretFile, "--rng-seed", "7"],
                         { stdio: ["ignore", "pipe", "inherit"] });
  const endpoint = await new Promise((resolve, reject) => {
    let text = "";
    emulator.stdout.on("data", (chunk) => {
      text += chunk;
      const newline = text.indexOf("\n");
      if (newline >= 0) resolve(JSON.parse(text.slice(0, newline)));
    });
    emulator.on("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
    stdio: "inherit",
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: endpoint.ca_file,
      COFFER_EMULATOR_ENDPOINT: JSON.stringify(endpoint),
      COFFER_EMULATOR_TOKEN_FILE: tokenFile,
      AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${endpoint.imds_port}`,
    },
  });
  const code = await new Promise((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
  emulator.kill("SIGTERM");
  await new Promise((resolve) => emulator.on("exit", resolve));
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}

async function checks() {
  const { SecretClient } = await import("@azure/keyvault-secrets");
  const { WorkloadIdentityCredential, ClientSecretCredential, ManagedIdentityCredential } =
      await import("@azure/identity");
  const endpoint = JSON.parse(process.env.COFFER_EMULATOR_ENDPOINT);
  const vaultUrl = `https://localhost:${endpoint.https_port}`;
  const authorityHost = `https://localhost:${endpoint.https_port}/`;
  const clientOptions = {
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 3, retryDelayInMs: 20, maxRetryDelayInMs: 100 },
  };
  let failures = 0;
  const check = async (name, body) => {
    try {
      await body();
      console.log(`ok - ${name}`);
    } catch (error) {
      failures += 1;
      console.log(`not ok - ${name}: ${error?.stack ?? error}`);
    }
  };
  const expect = (condition, message) => {
    if (!condition) throw new Error(message);
  };
  const control = (method, path, body) => new Promise((resolve, reject) => {
    const request = https.request({ host: "127.0.0.1", servername: endpoint.control_host,
                                    port: endpoint.https_port, path, method,
                                    checkServerIdentity: () => undefined,
                                    headers: { "Content-Type": "application/json" } },
                                  (response) => {
      let text = "";
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => response.statusCode < 300
        ? resolve(JSON.parse(text || "{}"))
        : reject(new Error(`${method} ${path}: ${response.statusCode} ${text}`)));
    });
    request.on("error", reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
  const rejects = async (promise, status, code) => {
    try {
      await promise;
    } catch (error) {
      expect(error.statusCode === status, `expected HTTP ${status}, got ${error.statusCode}: ${error.message}`);
      if (code) expect(error.code === code, `expected code ${code}, got ${error.code}`);
      return error;
    }
    throw new Error(`expected HTTP ${status}, but the call succeeded`);
  };

  const workload = new WorkloadIdentityCredential({
    tenantId: TENANT, clientId: CLIENT_ID, tokenFilePath: process.env.COFFER_EMULATOR_TOKEN_FILE,
    authorityHost, disableInstanceDiscovery: true,
  });
  const client = new SecretClient(vaultUrl, workload, clientOptions);
  let first;

  await check("WorkloadIdentityCredential: setSecret after the 401 challenge", async () => {
    first = await client.setSecret("Fidelity-One", "value-1", { contentType: "text/plain",
                                                                tags: { owner: "tests" } });
    expect(first.value === "value-1", "value");
    expect(first.name === "Fidelity-One", `name ${first.name}`);
    expect(/^[0-9a-f]{32}$/.test(first.properties.version), `version ${first.properties.version}`);
    expect(first.properties.vaultUrl === vaultUrl, `vaultUrl ${first.properties.vaultUrl}`);
    expect(first.properties.contentType === "text/plain", "contentType");
    expect(first.properties.tags.owner === "tests", "tags");
    expect(first.properties.createdOn instanceof Date, "createdOn");
    expect(first.properties.recoveryLevel === "Recoverable+Purgeable", "recoveryLevel");
    const stats = await control("GET", "/_emulator/stats");
    expect(stats.requests.token === 1, `token requests ${stats.requests.token}`);
    expect(stats.requests.unauthenticated >= 1, "the SDK probes without a token first");
  });

  await check("getSecret: latest, by version, case-insensitive name", async () => {
    await client.setSecret("Fidelity-One", "value-2");
    expect((await client.getSecret("Fidelity-One")).value === "value-2", "latest");
    const old = await client.getSecret("fidelity-one", { version: first.properties.version });
    expect(old.value === "value-1", `by version: ${old.value}`);
    await rejects(client.getSecret("Fidelity-Missing"), 404, "SecretNotFound");
  });

  await check("listPropertiesOfSecrets: pages of 2 across 2 empty pages", async () => {
    for (const n of ["A", "B", "C", "D"]) await client.setSecret(`Fidelity-List-${n}`, n);
    await control("POST", "/_emulator/config", { empty_pages: 2 });
    const names = [];
    const sizes = [];
    for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 2 })) {
      sizes.push(page.length);
      for (const properties of page) {
        expect(properties.value === undefined, "list entries carry no value");
        names.push(properties.name);
      }
    }
    await control("POST", "/_emulator/config", { empty_pages: 0 });
    expect(JSON.stringify(names) === JSON.stringify(["Fidelity-List-A", "Fidelity-List-B",
      "Fidelity-List-C", "Fidelity-List-D", "Fidelity-One"]), `names ${names}`);
    expect(sizes.join(",") === "0,0,2,2,1", `page sizes ${sizes}`);
    const versions = [];
    for await (const v of client.listPropertiesOfSecretVersions("Fidelity-One")) versions.push(v.version);
    expect(versions.length === 2 && versions.includes(first.properties.version), `versions ${versions}`);
  });

  await check("updateSecretProperties: a disabled secret is forbidden", async () => {
    const latest = await client.getSecret("Fidelity-List-A");
    const updated = await client.updateSecretProperties("Fidelity-List-A", latest.properties.version,
                                                        { enabled: false });
    expect(updated.enabled === false, "enabled");
    const error = await rejects(client.getSecret("Fidelity-List-A"), 403, "Forbidden");
    expect(/disabled secret/.test(error.message), error.message);
  });

  await check("beginDeleteSecret, getDeletedSecret, purgeDeletedSecret", async () => {
    await control("POST", "/_emulator/config", { delete_pending_gets: 1 });
    const poller = await client.beginDeleteSecret("Fidelity-List-B", { intervalInMs: 10 });
    const deleted = await poller.pollUntilDone();
    expect(deleted.properties.recoveryId === `${vaultUrl}/deletedsecrets/Fidelity-List-B`,
           `recoveryId ${deleted.properties.recoveryId}`);
    expect(deleted.properties.deletedOn instanceof Date, "deletedOn");
    await rejects(client.getSecret("Fidelity-List-B"), 404, "SecretNotFound");
    await rejects(client.setSecret("Fidelity-List-B", "again"), 409, "Conflict");
    expect((await client.getDeletedSecret("Fidelity-List-B")).name === "Fidelity-List-B", "deleted");
    await client.purgeDeletedSecret("Fidelity-List-B");
    await client.setSecret("Fidelity-List-B", "again");
    await control("POST", "/_emulator/config", { delete_pending_gets: 0 });
  });

  await check("the SDK retries injected 503 and 429 (Retry-After) faults", async () => {
    const before = (await control("GET", "/_emulator/stats")).faults_injected;
    await control("POST", "/_emulator/faults", { route: "get", fault: "503", count: 2 });
    expect((await client.getSecret("Fidelity-One")).value === "value-2", "after 503s");
    await control("POST", "/_emulator/faults", { route: "get", fault: "429-retry-after", count: 1,
                                                 retry_after: "0" });
    expect((await client.getSecret("Fidelity-One")).value === "value-2", "after 429");
    const after = (await control("GET", "/_emulator/stats")).faults_injected;
    expect(after - before === 3, `faults injected ${after - before}`);
  });

  await check("WorkloadIdentityCredential: an unknown assertion gets AADSTS70021", async () => {
    writeFileSync(process.env.COFFER_EMULATOR_TOKEN_FILE, "fidelity-assertion-2");
    const stranger = new WorkloadIdentityCredential({
      tenantId: TENANT, clientId: CLIENT_ID, authorityHost, disableInstanceDiscovery: true,
      tokenFilePath: join(dirname(process.env.COFFER_EMULATOR_TOKEN_FILE), "client-secret"),
    });
    try {
      await stranger.getToken("https://vault.azure.net/.default");
    } catch (error) {
      expect(/AADSTS70021/.test(error.message), error.message);
      return;
    }
    throw new Error("the exchange succeeded");
  });

  await check("ClientSecretCredential", async () => {
    const credential = new ClientSecretCredential(TENANT, CLIENT_ID, CLIENT_SECRET,
                                                  { authorityHost, disableInstanceDiscovery: true });
    const other = new SecretClient(vaultUrl, credential, clientOptions);
    expect((await other.getSecret("Fidelity-One")).value === "value-2", "value");
  });

  await check("ManagedIdentityCredential through IMDS", async () => {
    const credential = new ManagedIdentityCredential({ clientId: CLIENT_ID });
    const other = new SecretClient(vaultUrl, credential, clientOptions);
    expect((await other.getSecret("Fidelity-One")).value === "value-2", "value");
    const stats = await control("GET", "/_emulator/stats");
    expect(stats.requests.imds >= 1, `imds requests ${stats.requests.imds}`);
  });

  await check("a static token credential with a token from the token endpoint", async () => {
    const form = new URLSearchParams({ grant_type: "client_credentials", client_id: CLIENT_ID,
                                       client_secret: CLIENT_SECRET,
                                       scope: "https://vault.azure.net/.default" }).toString();
    const token = await new Promise((resolve, reject) => {
      const request = https.request(`${authorityHost}${TENANT}/oauth2/v2.0/token`, {
        method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
      }, (response) => {
        let text = "";
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => resolve(JSON.parse(text)));
      });
      request.on("error", reject);
      request.end(form);
    });
    expect(typeof token.expires_in === "number", "expires_in is a number");
    const credential = { getToken: async () => ({ token: token.access_token,
                                                  expiresOnTimestamp: Date.now() + 3_600_000 }) };
    const other = new SecretClient(vaultUrl, credential, clientOptions);
    expect((await other.getSecret("Fidelity-One")).value === "value-2", "value");
    const bogus = { getToken: async () => ({ token: "not-issued-here",
                                             expiresOnTimestamp: Date.now() + 3_600_000 }) };
    await rejects(new SecretClient(vaultUrl, bogus, clientOptions).getSecret("Fidelity-One"), 401);
  });

  console.log(failures === 0 ? "all fidelity checks passed" : `${failures} fidelity checks failed`);
  process.exit(failures === 0 ? 0 : 1);
}
