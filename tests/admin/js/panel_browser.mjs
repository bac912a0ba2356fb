// The admin panel in a real browser: Debian's headless Chromium driven by
// puppeteer-core against `coffer serve --admin` over three providers — the
// database (SQLite), a writable env file and Key Vault (coffer-azure-emulator).
// It logs in, checks the 30 credentials in their groups with key names and
// statuses, moves Email from the database to Key Vault with migration, enters
// a database credential, checks both with `coffer get`, scans every network
// response of the session for every value used, checks refusals (wrong token,
// a session the server ended, missing CSRF token, another origin), keyboard-only use and
// axe-core, and writes screenshots.
//
// Usage: node panel_browser.mjs --cli PATH/coffer --emulator PATH/coffer-azure-emulator
//        --plugins DIR [--screenshots DIR] [--chromium PATH]
// Chromium runs with --no-sandbox when the test runs as root (as in CI).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, chmodSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, dirname, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
}
const absolute = (path) => (path ? resolvePath(path) : path);
const cli = absolute(option('--cli'));
const emulatorProgram = absolute(option('--emulator'));
const plugins = absolute(option('--plugins'));
const screenshots = option('--screenshots', join(process.cwd(), 'admin-panel-screenshots'));
const chromium = option('--chromium', '/usr/bin/chromium');

let failures = 0;
function check(condition, what) {
  if (condition) {
    console.log(`ok - ${what}`);
  } else {
    failures += 1;
    console.log(`not ok - ${what}`);
  }
}
function fail(what) {
  console.log(`not ok - ${what}`);
  process.exitCode = 1;
  throw new Error(what);
}

const dir = mkdtempSync(join(tmpdir(), 'coffer-panel-browser-'));
mkdirSync(screenshots, { recursive: true });
const children = [];

// Values that must never reach the browser, shaped to be found.
const values = {
  'Email.SMTPPassword': 'smtp-Browser-Alpha-4e1b',
  'VCS.GithubAdminPAT': 'ghp-Browser-Bravo-77aa',
  'BuildCluster.KubernetesConfigureToken': 'k8s-Browser-Charlie-90c3',
};
const entered = 'cdn-Browser-Entered-Delta-5f02';
const adminToken = spawnSync('openssl', ['rand', '-hex', '32']).stdout.toString().trim();
const masterKey = spawnSync('openssl', ['rand', '-hex', '32']).stdout.toString().trim();
const secrets = [...Object.values(values), entered, adminToken, masterKey];

function start(program, args, onLine) {
  const child = spawn(program, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let log = '';
  const collect = (chunk) => {
    log += chunk.toString();
    if (onLine) onLine(log);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  child.log = () => log;
  return child;
}

function waitFor(child, pattern, what, ms = 30000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not come within ${ms} ms:\n${child.log()}`)), ms);
    const poll = setInterval(() => {
      const match = child.log().match(pattern);
      if (match) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve(match);
      }
    }, 20);
    child.on('exit', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(new Error(`${what}: the process exited with ${code}:\n${child.log()}`));
    });
  });
}

function coffer(args, input) {
  const run = spawnSync(cli, ['--policy', join(dir, 'coffer.json'), ...args], {
    cwd: dir, input, encoding: 'utf8', timeout: 60000,
  });
  return { status: run.status, out: run.stdout, err: run.stderr };
}

// A raw HTTP request, to send what a browser would refuse to (another Origin).
function raw(port, method, path, headers, body = '') {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main() {
  if (!cli || !emulatorProgram || !plugins) fail('usage: --cli PATH --emulator PATH --plugins DIR');

  // Key Vault: the emulator, reached through IMDS (managed identity).
  const emulator = start(emulatorProgram, ['--state-dir', join(dir, 'akv'), '--san', 'myvault.vault.azure.net']);
  const endpointLine = await waitFor(emulator, /\{"https_port".*\}/, 'the emulator');
  const endpoint = JSON.parse(endpointLine[0]);

  writeFileSync(join(dir, 'master.key'), `${masterKey}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'credentials.env'),
    `VCS__GithubAdminPAT=${values['VCS.GithubAdminPAT']}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'admin.token'), `${adminToken}\n`, { mode: 0o600 });
  const policy = {
    coffer: 1,
    plugin_dirs: [plugins],
    providers: {
      vault: {
        plugin: 'azure_keyvault',
        config: {
          vault_url: `https://myvault.vault.azure.net:${endpoint.https_port}`,
          connect_to: `127.0.0.1:${endpoint.https_port}`,
          authority_host: endpoint.authority_host,
          ca_file: endpoint.ca_file,
          credential: { type: 'managed_identity', imds_endpoint: endpoint.imds_endpoint },
        },
      },
      db: { plugin: 'database', config: { url: `sqlite://${join(dir, 'credentials.db')}`, master_key: { file: join(dir, 'master.key') } } },
      local: { plugin: 'env_file', config: { path: join(dir, 'credentials.env'), writable: true } },
    },
    routes: { VCS: 'local', BuildCluster: 'vault', '*': 'db' },
    audit: { file: join(dir, 'audit.log') },
  };
  writeFileSync(join(dir, 'coffer.json'),
    `// The platform's credentials (this comment must survive the panel's edits)\n${JSON.stringify(policy, null, 2)}\n`);
  let run = coffer(['db', 'init']);
  if (run.status !== 0) fail(`coffer db init: ${run.err}`);
  run = coffer(['put', 'Email.SMTPPassword'], values['Email.SMTPPassword']);
  if (run.status !== 0) fail(`coffer put Email: ${run.err}`);
  run = coffer(['put', 'BuildCluster.KubernetesConfigureToken'], values['BuildCluster.KubernetesConfigureToken']);
  if (run.status !== 0) fail(`coffer put BuildCluster (Key Vault): ${run.err}`);

  const agent = start(cli, ['--policy', join(dir, 'coffer.json'), 'serve', '--socket', join(dir, 'agent.sock'),
    '--admin', '127.0.0.1:0', '--admin-token-file', join(dir, 'admin.token')]);
  const port = Number((await waitFor(agent, /admin panel listening url=http:\/\/127\.0\.0\.1:(\d+)\//, 'the panel'))[1]);
  await waitFor(agent, /ready/, 'the agent');
  const origin = `http://127.0.0.1:${port}`;

  const args = ['--disable-gpu', '--disable-dev-shm-usage'];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args });
  const responses = [];
  const watch = (page) => page.on('response', async (response) => {
    try {
      responses.push({ url: response.url(), headers: JSON.stringify(response.headers()), body: (await response.buffer()).toString('latin1') });
    } catch (ignored) { /* a redirect or an aborted load has no body */ }
  });

  try {
    const page = await browser.newPage();
    watch(page);
    await page.setViewport({ width: 1400, height: 1000 });
    await page.goto(`${origin}/`, { waitUntil: 'networkidle0' });
    check(await page.$$eval('input[type=password]', (inputs) => inputs.length) === 1, 'the login page has one password input');

    // A wrong token is refused.
    // The token with its last digit changed (never the same digit: that would be the right token).
    const wrongToken = `${adminToken.slice(0, -1)}${adminToken.endsWith('0') ? '1' : '0'}`;
    await page.type('#token', wrongToken);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('login-message').textContent.length > 0);
    check((await page.cookies()).length === 0, 'a wrong token gets no session cookie');
    check(await page.$eval('#token', (input) => input.value) === '', 'the token field is cleared after a submit');
    await page.screenshot({ path: join(screenshots, 'login.png') });

    // The right token, submitted with Enter.
    await page.type('#token', adminToken);
    await page.keyboard.press('Enter');
    await page.waitForSelector('tr[data-key="Email.SMTPPassword"]', { timeout: 30000 });
    const cookie = (await page.cookies()).find((c) => c.name === 'coffer_admin');
    check(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');
    const rows = await page.$$eval('tr[data-key]', (trs) => trs.map((tr) => ({
      key: tr.dataset.key,
      names: [...tr.querySelectorAll('output')].map((o) => o.textContent),
      state: tr.querySelector('[data-state]').dataset.state,
      status: tr.querySelector('[data-state]').parentElement.textContent,
    })));
    check(rows.length === 30, `all 30 credentials are listed (${rows.length})`);
    const groups = await page.$$eval('#view h2', (hs) => hs.map((h) => h.textContent));
    check(JSON.stringify(groups) === JSON.stringify(['Version Control', 'Kubernetes build settings', 'Build cluster settings', 'Cluster manager', 'Marketplace', 'Email']),
      `the credentials are in the platform's groups (${groups.join(', ')})`);
    const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
    check(byKey['VCS.GithubAdminPAT'].names[0] === 'VCS__GithubAdminPAT' && byKey['VCS.GithubAdminPAT'].state === 'resolved',
      'an env-file credential shows VCS__GithubAdminPAT and resolves');
    check(byKey['BuildCluster.KubernetesConfigureToken'].names[0] === 'BuildCluster-KubernetesConfigureToken' &&
      byKey['BuildCluster.KubernetesConfigureToken'].state === 'resolved', 'a Key Vault credential shows its vault name and resolves');
    check(byKey['Email.SMTPPassword'].names[0] === 'Email.SMTPPassword' && byKey['Email.SMTPPassword'].state === 'resolved',
      'Email is in the database and resolves');
    check(byKey['Marketplace.ImportCDNPassword'].state === 'not_found', 'a credential nobody holds is not found');
    const lastChange = /last change \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/;
    check(lastChange.test(byKey['Email.SMTPPassword'].status) && lastChange.test(byKey['BuildCluster.KubernetesConfigureToken'].status),
      'a database and a Key Vault credential show when their version was written');
    check(!byKey['VCS.GithubAdminPAT'].status.includes('last change'), 'an env-file credential shows no last change (the file does not say)');
    await page.screenshot({ path: join(screenshots, 'credentials.png') });
    await page.screenshot({ path: join(screenshots, 'credentials-full.png'), fullPage: true });

    // Move Email from the database to Key Vault, with migration.
    await page.click('tr[data-key="Email.SMTPPassword"] button.move');
    await page.waitForSelector('.switch select');
    await page.select('.switch select', 'vault');
    await page.click('.switch input[value="category"]');
    await page.click('.switch button[type=submit]');
    await page.waitForSelector('.diff');
    const diff = await page.$eval('.diff', (pre) => pre.textContent);
    check(diff.includes('+') && diff.includes('"Email": "vault"'), 'the preview shows the policy change as a diff');
    await page.screenshot({ path: join(screenshots, 'switch-preview.png') });
    await page.click('button.apply');
    await page.waitForFunction(() => /^(Done|Failed)/.test(document.querySelector('.job-message')?.textContent || ''), { timeout: 60000 });
    const jobText = await page.$eval('.job-message', (p) => p.textContent);
    check(jobText.startsWith('Done') && jobText.includes('1 copied'), `the switch is done with the value copied (${jobText})`);
    await page.click('button.refresh');
    await page.waitForFunction(() => {
      const tr = document.querySelector('tr[data-key="Email.SMTPPassword"]');
      return tr && tr.querySelector('output')?.textContent === 'Email-SMTPPassword';
    }, { timeout: 30000 });
    const emailState = await page.$eval('tr[data-key="Email.SMTPPassword"] [data-state]', (s) => s.dataset.state);
    check(emailState === 'resolved', 'Email now shows the key name Email-SMTPPassword and resolves from Key Vault');
    run = coffer(['get', '-n', 'Email.SMTPPassword']);
    check(run.status === 0 && run.out === values['Email.SMTPPassword'], '`coffer get Email.SMTPPassword` agrees');
    const policyText = readFileSync(join(dir, 'coffer.json'), 'utf8');
    check(policyText.startsWith('// The platform'), 'the policy edit kept the comment');

    // Enter a database credential.
    await page.click('tr[data-key="Marketplace.ImportCDNPassword"] button.enter');
    await page.waitForSelector('.entry input[type=password]');
    check(await page.$eval('.entry input', (i) => i.getAttribute('autocomplete')) === 'new-password', 'the entry field is autocomplete=new-password');
    await page.type('.entry input', entered);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /^Stored in db/.test(document.querySelector('.entry-message')?.textContent || ''));
    check(await page.$eval('.entry input', (i) => i.value) === '', 'the entry field is cleared after a submit');
    run = coffer(['get', '-n', 'Marketplace.ImportCDNPassword']);
    check(run.status === 0 && run.out === entered, '`coffer get` reads the entered database credential');

    // The other views.
    await page.click('#tab-providers');
    await page.waitForSelector('tr[data-provider="vault"]');
    await page.screenshot({ path: join(screenshots, 'providers.png') });
    await page.click('#tab-audit');
    await page.waitForFunction(() => document.querySelectorAll('#view tbody tr').length > 0);
    check(await page.$eval('#view', (v) => v.textContent.includes('admin:admin-token@127.0.0.1')), 'the audit view names the admin');
    await page.screenshot({ path: join(screenshots, 'audit.png') });
    await page.click('#tab-overview');
    await page.waitForSelector('#view svg');
    await page.screenshot({ path: join(screenshots, 'overview.png') });

    // State changes without the CSRF token, or from another origin, are refused.
    const noCsrf = await page.evaluate(async () => (await fetch('/api/logout', { method: 'POST', credentials: 'same-origin' })).status);
    check(noCsrf === 403, `a POST without the CSRF token is refused (${noCsrf})`);
    const cookieHeader = `coffer_admin=${cookie.value}`;
    const cross = await raw(port, 'POST', '/api/switch', { Host: `127.0.0.1:${port}`, Origin: 'http://attacker.example', Cookie: cookieHeader,
      'Content-Type': 'application/x-www-form-urlencoded' }, 'scope=category&name=VCS&to=db&migrate=1');
    check(cross.status === 403, `a POST from another origin is refused (${cross.status})`);

    // axe-core on the credentials and login views (CSP bypassed for the injected script only).
    const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    const audit = async (target, what) => {
      await target.addScriptTag({ content: axeSource });
      const result = await target.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
      });
      const serious = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      check(serious.length === 0, `axe-core: no serious or critical violation on ${what} ${JSON.stringify(serious)}`);
    };
    const axePage = await browser.newPage();
    watch(axePage);
    await axePage.setBypassCSP(true);
    await axePage.goto(`${origin}/#credentials`, { waitUntil: 'networkidle0' });
    await axePage.waitForSelector('tr[data-key]');
    await audit(axePage, 'the credentials view');

    // Keyboard alone: a fresh context logs in and tests a credential with Tab and Enter.
    const context = await browser.createBrowserContext();
    const keys = await context.newPage();
    watch(keys);
    await keys.setBypassCSP(true);  // for the injected axe-core script
    await keys.goto(`${origin}/`, { waitUntil: 'networkidle0' });
    await audit(keys, 'the login view');
    await keys.focus('#token');
    await keys.keyboard.type(adminToken);
    await keys.keyboard.press('Enter');
    await keys.waitForSelector('tr[data-key]');
    let reached = false;
    for (let i = 0; i < 40 && !reached; i += 1) {
      await keys.keyboard.press('Tab');
      reached = await keys.evaluate(() => document.activeElement?.classList.contains('test'));
    }
    check(reached, 'Tab reaches a Test button');
    await keys.keyboard.press('Enter');
    await keys.waitForFunction(() => document.querySelector('.test-row ol'), { timeout: 30000 });
    check(true, 'Enter on Test shows the explain steps');
    await context.close();

    // A session the server has ended while the browser still holds its
    // cookie, as the idle limit ends one (the limits themselves are tested on
    // a clock the test moves, in admin_unit_tests): a reload shows the login.
    const { csrf } = JSON.parse((await raw(port, 'GET', '/api/session', { Cookie: cookieHeader })).body);
    const ended = await raw(port, 'POST', '/api/logout', { Cookie: cookieHeader, Origin: origin, 'X-CSRF-Token': csrf });
    check(ended.status === 200, 'the server ends the session');
    await page.goto(`${origin}/`, { waitUntil: 'networkidle0' });
    check(await page.$eval('#login-view', (v) => !v.hidden), 'once the server has ended the session the login shows');
  } finally {
    await browser.close();
  }

  // Every response of the whole session: no value, no token, no master key.
  let leaks = 0;
  for (const response of responses) {
    for (const secret of secrets) {
      if (response.body.includes(secret) || response.headers.includes(secret)) {
        leaks += 1;
        console.log(`# ${response.url} carries a value`);
      }
    }
  }
  check(responses.length > 20 && leaks === 0, `${responses.length} responses scanned: no value, token or master key in any`);
  const auditLog = readFileSync(join(dir, 'audit.log'), 'utf8');
  check(!secrets.some((s) => auditLog.includes(s)), 'the audit log holds no value');
  check(!secrets.some((s) => agent.log().includes(s)), "the agent's log holds no value");
}

try {
  await main();
} catch (error) {
  failures += 1;
  console.log(`not ok - ${error.stack || error}`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
console.log(failures === 0 ? '# all passed' : `# ${failures} failed`);
process.exitCode = failures === 0 ? 0 : 1;
