// The admin panel's page: log in, then the credentials in their groups, the
// providers, the recent audit events and an overview. Everything is built
// with DOM calls and textContent (no HTML from data, no inline script or
// style); the JSON API is documented in docs/admin-panel.md. No value is
// ever requested: the API has none to give.
'use strict';

const state = { csrf: '', identity: '', writable: {}, providers: [], categorySizes: {} };

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function svgElement(tag, attributes = {}) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

async function api(path, options = {}) {
  const init = { method: options.method || 'GET', credentials: 'same-origin', headers: {} };
  if (init.method !== 'GET') init.headers['X-CSRF-Token'] = state.csrf;
  if (options.form) {
    init.body = options.form;
  } else if (options.json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, init);
  let body = {};
  try {
    body = await response.json();
  } catch (ignored) {
    body = {};
  }
  return { status: response.status, body };
}

function show(view) {
  document.getElementById('login-view').hidden = view !== 'login';
  document.getElementById('app-view').hidden = view !== 'app';
  document.getElementById('who').hidden = view !== 'app';
}

function setStatus(text) {
  document.getElementById('status').textContent = text;
}

function sessionLost() {
  state.csrf = '';
  show('login');
  document.getElementById('login-message').textContent =
    'Your session has ended. Log in again.';
  document.getElementById('token').focus();
}

// --- views -----------------------------------------------------------------

const stateLabels = {
  resolved: 'Resolved',
  not_found: 'Not found',
  denied: 'Denied',
  unavailable: 'Unavailable',
  refused: 'Refused by the policy',
  error: 'Error',
};

function storageCell(row) {
  const cell = element('td');
  const chain = row.chain.map((step) => step.provider).join(' → ');
  cell.append(element('span', { text: chain || '(no provider)' }));
  const how = row.override ? `per-key override (${row.rule})` : `route ${row.rule || '(none)'}`;
  cell.append(element('span', { class: 'detail', text: how }));
  if (row.chain.length > 1) cell.append(element('span', { class: 'detail', text: 'fallback chain' }));
  return cell;
}

function namesCell(row) {
  const list = element('ul', { class: 'names' });
  for (const step of row.chain) {
    const label = `Name in ${step.provider} (${step.plugin})`;
    list.append(element('li', {},
      element('span', { class: 'provider-name', text: `${step.provider}:` }),
      element('output', { 'aria-label': `${label} for ${row.key}`, text: step.name })));
  }
  return element('td', {}, list);
}

function statusCell(row) {
  const status = row.status;
  const cell = element('td');
  cell.append(element('span', {
    class: `state state-${status.state}`,
    'data-state': status.state,
    text: stateLabels[status.state] || status.state,
  }));
  if (status.state === 'resolved') {
    cell.append(element('span', { class: 'detail', text: `from ${status.provider}` }));
    if (status.version) cell.append(element('span', { class: 'detail', text: `version ${status.version}` }));
    if (status.last_change) {
      cell.append(element('span', { class: 'detail', text: `last change ${status.last_change}` }));
    }
  } else if (status.message) {
    cell.append(element('span', { class: 'detail', text: status.message }));
  }
  return cell;
}

// A row below `anchor` (replacing one left there before) spanning the table.
function detailRow(anchor, kind, ...content) {
  const next = anchor.nextElementSibling;
  if (next && next.classList.contains('detail-row')) next.remove();
  const tr = element('tr', { class: `detail-row ${kind}` },
    element('td', { colspan: String(anchor.children.length) }, ...content));
  anchor.after(tr);
  return tr;
}

async function testCredential(row, anchor) {
  const result = element('div', { role: 'status', 'aria-live': 'polite', text: `Testing ${row.key}…` });
  detailRow(anchor, 'test-row', result);
  const { status, body } = await api(`/api/credentials/${encodeURIComponent(row.key)}/test`);
  if (status === 401) return sessionLost();
  if (status !== 200) {
    result.textContent = body.error || `The panel answered ${status}.`;
    return;
  }
  const outcome = stateLabels[body.status.state] || body.status.state;
  result.replaceChildren(element('p', {},
    element('strong', { text: `${row.key}: ${outcome}` }),
    body.status.version ? ` (version ${body.status.version} from ${body.status.provider})` : '',
    body.status.message ? ` — ${body.status.message}` : ''));
  const steps = element('ol', { class: 'steps' });
  for (const step of body.steps) {
    steps.append(element('li', {
      text: `${step.provider} (${step.plugin}) as ${step.name}: ${step.outcome} — ${step.note}`,
    }));
  }
  result.append(element('p', { text: `Chosen by ${body.rule}; access: ${body.access}` }), steps);
}

function entryForm(row, anchor) {
  const provider = row.chain[0].provider;
  const id = `entry-${row.key.replace('.', '-')}`;
  const input = element('input', {
    id, type: 'password', autocomplete: 'new-password', required: '', spellcheck: 'false',
  });
  const message = element('p', { class: 'entry-message', role: 'status', 'aria-live': 'polite' });
  const cancel = element('button', { type: 'button', class: 'secondary', text: 'Cancel' });
  const form = element('form', { class: 'entry' },
    element('label', { for: id, text: `New value for ${row.key}` }),
    element('span', {
      class: 'detail',
      text: `Write-only: stored as a new version in ${provider} and never shown again.`,
    }),
    input,
    element('button', { type: 'submit', text: 'Store' }),
    cancel);
  const tr = detailRow(anchor, 'entry-row', form, message);
  cancel.addEventListener('click', () => {
    tr.remove();
    anchor.querySelector('button.enter').focus();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!input.value) {
      message.textContent = 'Type the value first.';
      return;
    }
    const fields = new URLSearchParams();
    fields.set('value', input.value);
    input.value = '';
    const { status, body } = await api(`/api/credentials/${encodeURIComponent(row.key)}/value`,
      { method: 'POST', form: fields });
    fields.delete('value');
    if (status === 401) return sessionLost();
    if (status === 200) {
      message.textContent = `Stored in ${body.provider}` +
        (body.version ? ` as version ${body.version}.` : '.');
    } else {
      message.textContent = body.error || `The panel answered ${status}.`;
    }
  });
  input.focus();
}

function diffView(lines) {
  const pre = element('pre', { class: 'diff', 'aria-label': 'Policy change' });
  for (const line of lines) {
    const kind = line.kind === '+' ? 'added' : line.kind === '-' ? 'removed' : 'context';
    pre.append(element('span', { class: `diff-${kind}`, text: `${line.kind} ${line.line}: ${line.text}\n` }));
  }
  return pre;
}

async function followJob(id, progress, message) {
  for (;;) {
    const { status, body } = await api(`/api/job?id=${encodeURIComponent(id)}`);
    if (status === 401) return sessionLost();
    if (status !== 200) {
      message.textContent = body.error || `The panel answered ${status}.`;
      return;
    }
    progress.max = Math.max(1, body.total);
    progress.value = body.done;
    if (body.state === 'running') {
      message.textContent = body.total > 0
        ? `Copying and verifying: ${body.done} of ${body.total}${body.current ? ` (${body.current})` : ''}`
        : 'Changing the policy…';
      await new Promise((resolve) => { setTimeout(resolve, 250); });
      continue;
    }
    const failed = body.keys.filter((k) => k.status === 'failed');
    const copied = body.keys.filter((k) => k.status === 'copied').length;
    let text = `${body.state === 'done' ? 'Done' : 'Failed'}: ${body.message}.`;
    if (body.total > 0) text += ` ${copied} copied, ${body.keys.length - copied - failed.length} unchanged or absent, ${failed.length} failed.`;
    for (const k of failed) text += ` ${k.key}: ${k.note}.`;
    message.textContent = text;
    if (body.state === 'done') {
      setStatus(text);
      const refresh = element('button', { type: 'button', class: 'refresh', text: 'Show the new storage' });
      refresh.addEventListener('click', () => renderCurrent());
      message.after(refresh);
      refresh.focus();
    }
    return;
  }
}

function switchForm(row, anchor) {
  const category = row.category;
  const current = row.chain[0] ? row.chain[0].provider : '';
  const select = element('select', { id: `move-to-${row.key.replace('.', '-')}` });
  for (const provider of state.providers) {
    const option = element('option', { value: provider.name, text: `${provider.name} (${provider.plugin})` });
    if (provider.name === current) option.disabled = true;
    select.append(option);
  }
  const firstOther = state.providers.find((p) => p.name !== current);
  if (firstOther) select.value = firstOther.name;
  const scopeKey = element('input', { type: 'radio', name: `scope-${row.key}`, id: `scope-key-${row.key}`, value: 'key' });
  const scopeCategory = element('input', { type: 'radio', name: `scope-${row.key}`, id: `scope-cat-${row.key}`, value: 'category' });
  scopeKey.checked = true;
  const migrate = element('input', { type: 'checkbox', id: `migrate-${row.key}` });
  migrate.checked = true;
  const previewButton = element('button', { type: 'submit', text: 'Preview the change' });
  const cancel = element('button', { type: 'button', class: 'secondary', text: 'Cancel' });
  const result = element('div', { class: 'switch-result', role: 'status', 'aria-live': 'polite' });
  const form = element('form', { class: 'switch' },
    element('label', { for: select.id, text: `Store ${row.key} in` }), select,
    element('fieldset', {},
      element('legend', { text: 'What moves' }),
      scopeKey, element('label', { for: scopeKey.id, text: `only ${row.key}` }),
      scopeCategory, element('label', { for: scopeCategory.id, text: `the whole category ${category} (${state.categorySizes[category] || 1} credentials)` })),
    migrate, element('label', { for: migrate.id, text: 'Copy the values across and verify them' }),
    previewButton, cancel);
  const tr = detailRow(anchor, 'switch-row', form, result);
  cancel.addEventListener('click', () => {
    tr.remove();
    anchor.querySelector('button.move').focus();
  });
  const fields = () => {
    const data = new URLSearchParams();
    data.set('scope', scopeCategory.checked ? 'category' : 'key');
    data.set('name', scopeCategory.checked ? category : row.key);
    data.set('to', select.value);
    data.set('migrate', migrate.checked ? '1' : '0');
    return data;
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const request = fields();
    const { status, body } = await api('/api/switch-preview', { method: 'POST', form: request });
    if (status === 401) return sessionLost();
    result.replaceChildren();
    if (status !== 200) {
      result.textContent = body.error || `The panel answered ${status}.`;
      return;
    }
    result.append(element('p', {
      text: `From ${body.from} to ${body.to}: ${body.keys.length} credential(s). The policy file changes so:`,
    }));
    if (!body.possible) {
      result.append(element('p', { class: 'message', text: `This change cannot be made here: ${body.refusal}` }));
      return;
    }
    result.append(diffView(body.diff));
    const apply = element('button', { type: 'button', class: 'apply', text: 'Apply the change' });
    const progress = element('progress', { max: '1', value: '0', 'aria-label': 'Switch progress' });
    const message = element('p', { class: 'job-message', role: 'status', 'aria-live': 'polite' });
    apply.addEventListener('click', async () => {
      apply.disabled = true;
      const started = await api('/api/switch', { method: 'POST', form: request });
      if (started.status === 401) return sessionLost();
      if (started.status !== 202) {
        message.textContent = started.body.error || `The panel answered ${started.status}.`;
        apply.disabled = false;
        return;
      }
      await followJob(started.body.job, progress, message);
    });
    result.append(apply, progress, message);
    apply.focus();
  });
  select.focus();
}

function actionsCell(row, anchor) {
  const cell = element('td', { class: 'actions' });
  const test = element('button', {
    type: 'button', class: 'secondary test', text: 'Test', 'aria-label': `Test ${row.key}`,
  });
  test.addEventListener('click', () => testCredential(row, anchor));
  cell.append(test);
  if (state.providers.length > 1 && row.chain.length > 0) {
    const move = element('button', {
      type: 'button', class: 'secondary move', text: 'Change storage', 'aria-label': `Change where ${row.key} is stored`,
    });
    move.addEventListener('click', () => switchForm(row, anchor));
    cell.append(move);
  }
  const first = row.chain[0];
  if (first && state.writable[first.provider] && row.status.state !== 'refused') {
    const enter = element('button', {
      type: 'button', class: 'enter', text: 'Enter value', 'aria-label': `Enter a value for ${row.key}`,
    });
    enter.addEventListener('click', () => entryForm(row, anchor));
    cell.append(enter);
  }
  return cell;
}

function credentialsTable(service) {
  const table = element('table', { class: 'credentials' });
  table.append(element('caption', { class: 'visually-hidden', text: service.name }));
  table.append(element('thead', {}, element('tr', {},
    element('th', { scope: 'col', text: 'Credential' }),
    element('th', { scope: 'col', text: 'Stored in' }),
    element('th', { scope: 'col', text: 'Key name (read-only)' }),
    element('th', { scope: 'col', text: 'Status' }),
    element('th', { scope: 'col', text: 'Actions' }))));
  const body = element('tbody');
  for (const row of service.keys) {
    const tr = element('tr', { 'data-key': row.key });
    tr.append(element('td', { class: 'key' },
      element('code', { text: row.key }),
      element('span', { class: 'description', text: row.description })));
    tr.append(storageCell(row), namesCell(row), statusCell(row), actionsCell(row, tr));
    body.append(tr);
  }
  table.append(body);
  return table;
}

async function renderCredentials(view) {
  const [{ status, body }, providers] =
    await Promise.all([api('/api/credentials'), api('/api/providers')]);
  if (providers.status === 200) {
    state.providers = providers.body.providers;
    state.writable = Object.fromEntries(providers.body.providers.map((p) => [p.name, p.writable]));
  }
  if (status === 200) {
    state.categorySizes = {};
    for (const group of body.groups) {
      for (const service of group.services) {
        for (const row of service.keys) {
          state.categorySizes[row.category] = (state.categorySizes[row.category] || 0) + 1;
        }
      }
    }
  }
  if (status === 401) return sessionLost();
  if (status !== 200) return setStatus(body.error || `the panel answered ${status}`);
  for (const group of body.groups) {
    const section = element('section', { 'aria-labelledby': `group-${group.name}` });
    section.append(element('h2', { id: `group-${group.name}`, text: group.name }));
    for (const service of group.services) {
      if (group.services.length > 1 || service.name !== group.name) {
        section.append(element('h3', { text: service.name }));
      }
      section.append(credentialsTable(service));
    }
    view.append(section);
  }
  const count = body.groups.reduce((n, g) => n + g.services.reduce((m, s) => m + s.keys.length, 0), 0);
  setStatus(`${count} credentials, policy generation ${body.generation}`);
}

const editable = {
  azure_keyvault: ['vault_name', 'cloud', 'vault_url'],
  database: ['url'],
};
const settingLabels = {
  vault_name: 'Vault name', cloud: 'Cloud', vault_url: 'Vault URL', layout: 'Layout',
  url: 'Database URL (no password)', path: 'File', prefix: 'Prefix', source: 'Source', writable: 'Writable',
};

function settingsCell(provider) {
  const list = element('dl', { class: 'settings' });
  for (const [field, value] of Object.entries(provider.settings || {})) {
    const dd = element('dd', {}, element('output', { text: value }));
    const canEdit = (editable[provider.plugin] || []).includes(field) &&
      !(field === 'url' && value.startsWith('sqlite'));
    if (canEdit) {
      const edit = element('button', {
        type: 'button', class: 'secondary edit-setting', text: 'Edit', 'aria-label': `Edit ${settingLabels[field] || field} of ${provider.name}`,
      });
      edit.addEventListener('click', () => settingForm(provider, field, value, dd, edit));
      dd.append(' ', edit);
    }
    list.append(element('dt', { text: settingLabels[field] || field }), dd);
  }
  return element('td', {}, list);
}

function settingForm(provider, field, value, dd, edit) {
  const id = `setting-${provider.name}-${field}`;
  const input = element('input', { id, type: 'text', spellcheck: 'false', autocomplete: 'off' });
  input.value = value;
  const message = element('p', { class: 'setting-message', role: 'status', 'aria-live': 'polite' });
  const form = element('form', { class: 'setting' },
    element('label', { for: id, text: `New ${settingLabels[field] || field}` }), input,
    element('button', { type: 'submit', text: 'Check and save' }));
  edit.hidden = true;
  dd.append(form, message);
  input.focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = new URLSearchParams();
    fields.set('provider', provider.name);
    fields.set('field', field);
    fields.set('value', input.value);
    const { status, body } = await api('/api/provider-setting', { method: 'POST', form: fields });
    if (status === 401) return sessionLost();
    message.textContent = status === 200 ? `Saved (${body.changed}); the policy reloaded.` : (body.error || `The panel answered ${status}.`);
  });
}

async function renderProviders(view) {
  const { status, body } = await api('/api/providers');
  if (status === 401) return sessionLost();
  if (status !== 200) return setStatus(body.error || `the panel answered ${status}`);
  const table = element('table');
  table.append(element('thead', {}, element('tr', {},
    element('th', { scope: 'col', text: 'Provider' }),
    element('th', { scope: 'col', text: 'Plugin' }),
    element('th', { scope: 'col', text: 'Health' }),
    element('th', { scope: 'col', text: 'Writable' }),
    element('th', { scope: 'col', text: 'Credentials routed here first' }),
    element('th', { scope: 'col', text: 'Settings' }))));
  const rows = element('tbody');
  for (const provider of body.providers) {
    const health = element('td', {}, element('span', {
      class: `state state-${provider.health}`, text: provider.isolated ? 'isolated' : provider.health,
    }));
    if (provider.message) health.append(element('span', { class: 'detail', text: provider.message }));
    rows.append(element('tr', { 'data-provider': provider.name },
      element('td', {}, element('code', { text: provider.name })),
      element('td', { text: provider.plugin }),
      health,
      element('td', { text: provider.writable ? 'yes' : 'no' }),
      element('td', { text: String(provider.keys) }),
      settingsCell(provider)));
  }
  table.append(rows);
  view.append(table);
  setStatus(`${body.providers.length} providers`);
}

async function renderAudit(view) {
  const { status, body } = await api('/api/audit');
  if (status === 401) return sessionLost();
  if (status !== 200) return setStatus(body.error || `the panel answered ${status}`);
  const table = element('table');
  table.append(element('thead', {}, element('tr', {},
    element('th', { scope: 'col', text: 'Time (UTC)' }),
    element('th', { scope: 'col', text: 'Who' }),
    element('th', { scope: 'col', text: 'Action' }),
    element('th', { scope: 'col', text: 'Credential' }),
    element('th', { scope: 'col', text: 'Provider' }),
    element('th', { scope: 'col', text: 'Outcome' }))));
  const rows = element('tbody');
  for (const event of body.events) {
    const who = event.peer ? `${event.caller} (${event.peer})` : event.caller;
    const outcome = element('td', { text: event.outcome });
    if (event.message) outcome.append(element('span', { class: 'detail', text: event.message }));
    rows.append(element('tr', {},
      element('td', { text: event.time }), element('td', { text: who }),
      element('td', { text: event.operation }), element('td', { text: event.key }),
      element('td', { text: event.provider }), outcome));
  }
  table.append(rows);
  view.append(table);
  setStatus(`${body.events.length} recent events since the agent started (the audit log file has them all)`);
}

function barChart(title, counts, classOf) {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...entries.map(([, n]) => n));
  const rowHeight = 26;
  const width = 360;
  const svg = svgElement('svg', {
    width, height: entries.length * rowHeight + 4, role: 'img',
    'aria-label': `${title}: ${entries.map(([name, n]) => `${name} ${n}`).join(', ')}`,
  });
  entries.forEach(([name, n], i) => {
    const y = i * rowHeight + 2;
    const label = svgElement('text', { x: 0, y: y + 16 });
    label.textContent = name;
    const bar = svgElement('rect', {
      x: 130, y: y + 3, height: rowHeight - 8, width: Math.max(2, (n / max) * 190), class: classOf(name),
    });
    const value = svgElement('text', { x: 130 + Math.max(2, (n / max) * 190) + 6, y: y + 16 });
    value.textContent = String(n);
    svg.append(label, bar, value);
  });
  return element('figure', {}, element('figcaption', { text: title }), svg);
}

async function renderOverview(view) {
  const { status, body } = await api('/api/credentials');
  if (status === 401) return sessionLost();
  if (status !== 200) return setStatus(body.error || `the panel answered ${status}`);
  const byProvider = {};
  const byStatus = {};
  for (const group of body.groups) {
    for (const service of group.services) {
      for (const row of service.keys) {
        const provider = row.status.provider || (row.chain[0] && row.chain[0].provider) || '(none)';
        byProvider[provider] = (byProvider[provider] || 0) + 1;
        const label = stateLabels[row.status.state] || row.status.state;
        byStatus[label] = (byStatus[label] || 0) + 1;
      }
    }
  }
  const stateOf = Object.fromEntries(Object.entries(stateLabels).map(([k, v]) => [v, k]));
  view.append(element('div', { class: 'chart' },
    barChart('Credentials by provider', byProvider, () => 'bar-provider'),
    barChart('Credentials by status', byStatus, (label) => `bar-${stateOf[label] || 'error'}`)));
  setStatus('Counts from a resolution just now');
}

const views = {
  credentials: { title: 'Credentials', render: renderCredentials },
  providers: { title: 'Providers', render: renderProviders },
  audit: { title: 'Recent audit events', render: renderAudit },
  overview: { title: 'Overview', render: renderOverview },
};

async function renderCurrent() {
  const name = (location.hash || '#credentials').slice(1);
  const current = views[name] ? name : 'credentials';
  for (const key of Object.keys(views)) {
    const tab = document.getElementById(`tab-${key}`);
    if (key === current) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  document.getElementById('view-title').textContent = views[current].title;
  const view = document.getElementById('view');
  view.replaceChildren();
  setStatus('Loading…');
  view.setAttribute('aria-busy', 'true');
  try {
    await views[current].render(view);
  } finally {
    view.removeAttribute('aria-busy');
  }
}

// --- session ---------------------------------------------------------------

function enterApp(body) {
  state.csrf = body.csrf;
  state.identity = body.identity;
  document.getElementById('identity').textContent = `Signed in as ${body.identity}`;
  show('app');
  renderCurrent();
}

async function login(event) {
  event.preventDefault();
  const input = document.getElementById('token');
  const form = new URLSearchParams();
  form.set('token', input.value);
  input.value = '';
  const message = document.getElementById('login-message');
  message.textContent = '';
  const { status, body } = await api('/api/login', { method: 'POST', form });
  if (status === 200) {
    enterApp(body);
    document.getElementById('content').focus();
  } else {
    message.textContent = body.error || `The panel answered ${status}.`;
    input.focus();
  }
}

async function logout() {
  await api('/api/logout', { method: 'POST' });
  state.csrf = '';
  show('login');
  document.getElementById('token').focus();
}

async function boot() {
  document.getElementById('login-form').addEventListener('submit', login);
  document.getElementById('logout').addEventListener('click', logout);
  window.addEventListener('hashchange', () => {
    if (state.csrf) renderCurrent();
  });
  const { status, body } = await api('/api/session');
  if (status === 200) {
    enterApp(body);
  } else {
    show('login');
    document.getElementById('token').focus();
  }
}

document.addEventListener('DOMContentLoaded', boot);
