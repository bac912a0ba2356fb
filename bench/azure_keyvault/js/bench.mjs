// The official Azure SDK for JavaScript (@azure/keyvault-secrets with
// @azure/identity's WorkloadIdentityCredential) resolving secrets from the
// emulator, for coffer-bench-azure-keyvault. Reads its task from the
// environment variable COFFER_BENCH_TASK (JSON) and prints one JSON line per
// measurement: {"scenario", "mode", "count", "errors", "wall_ms", "cpu_ms"}.
// Needs NODE_EXTRA_CA_CERTS set to the emulator's CA at start-up.
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";

const task = JSON.parse(process.env.COFFER_BENCH_TASK);
// The SDK pinned in package-lock.json beside this file (npm ci here).
const require = createRequire(task.sdk_package_json);
const { SecretClient } = require("@azure/keyvault-secrets");
const { WorkloadIdentityCredential } = require("@azure/identity");

function newClient() {
  const credential = new WorkloadIdentityCredential({
    tenantId: task.tenant, clientId: task.client_id, tokenFilePath: task.token_file,
    authorityHost: task.authority_host, disableInstanceDiscovery: true,
  });
  return new SecretClient(task.vault_url, credential,
                          { disableChallengeResourceVerification: true });
}

async function run(client, names, concurrency) {
  let errors = 0;
  const one = async (name) => {
    try {
      const secret = await client.getSecret(name);
      if (secret.value === undefined) errors += 1;
    } catch {
      errors += 1;
    }
  };
  if (concurrency === 1) {
    for (const name of names) await one(name);
  } else if (concurrency >= names.length) {
    await Promise.all(names.map(one));
  } else {
    let next = 0;
    const worker = async () => {
      while (next < names.length) await one(names[next++]);
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
  return errors;
}

for (const step of task.steps) {
  const client = newClient();  // cold: a new credential, pipeline and connections
  const cpu = process.cpuUsage();
  const start = performance.now();
  const errors = await run(client, step.names, step.concurrency);
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  console.log(JSON.stringify({ scenario: step.scenario, mode: step.mode, count: step.names.length,
                               errors, wall_ms: wall, cpu_ms: (used.user + used.system) / 1000 }));
}
