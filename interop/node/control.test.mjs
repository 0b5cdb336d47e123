// A Jest-style suite in Node's own test runner: imapflow against imapfault,
// driven through the control API between tests.
//   IMAPFAULT_BIN=path/to/imapfault node --test control.test.mjs
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { ImapFlow } from 'imapflow';

let proc, ready, password;

// Start `imapfault serve --json`; its first stdout line says where
// everything is.
before(async () => {
  proc = spawn(process.env.IMAPFAULT_BIN || 'imapfault',
    ['serve', '--json', '--scenario', 'healthy', '--control', '127.0.0.1:0'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout });
  const [line] = await Promise.race([
    new Promise((resolve) => lines.once('line', (l) => resolve([l]))),
    new Promise((_, reject) => proc.once('exit', (code) => reject(new Error(`imapfault exited ${code}`)))),
  ]);
  ready = JSON.parse(line);
  password = ready.users.find((u) => u.name === 'alice').password;
});

after(() => proc.kill('SIGTERM'));

async function api(method, path, body, type = 'application/json') {
  const res = await fetch(ready.control + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': type },
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const text = await res.text();
  const data = text && res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text;
  if (!res.ok) throw Object.assign(new Error(data.error), { status: res.status });
  return data;
}

function client() {
  const [host, port] = [ready.address.slice(0, ready.address.lastIndexOf(':')), Number(ready.address.slice(ready.address.lastIndexOf(':') + 1))];
  const c = new ImapFlow({
    host, port, secure: false, doSTARTTLS: true,
    tls: { ca: [readFileSync(ready.ca_file)] },
    auth: { user: 'alice', pass: password },
    logger: false, disableAutoIdle: true,
  });
  c.on('error', () => {});
  return c;
}

beforeEach(() => api('POST', '/api/reset'));

test('LOGIN fails for the next connection only', async () => {
  const f = await api('POST', '/api/faults', { when: { command: 'LOGIN', first: 1 }, respond: 'NO [UNAVAILABLE] try later' });
  assert.ok(f.id > 0);
  await assert.rejects(client().connect(), (err) => err.serverResponseCode === 'UNAVAILABLE');
  const c = client();
  await c.connect();
  await c.logout();
});

test('a message delivered during IDLE is pushed', async () => {
  const c = client();
  await c.connect();
  const lock = await c.getMailboxLock('INBOX');
  const before = c.mailbox.exists;
  const pushed = new Promise((resolve) => c.on('exists', (d) => resolve(d.count)));
  // Deliver once the server has answered IDLE: subscribe to the event
  // stream first (it is in place once ": subscribed" arrives), then IDLE.
  const events = await fetch(ready.control + '/api/events');
  const reader = events.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  while (!buf.includes(': subscribed\n')) {
    const { value, done } = await reader.read();
    assert.ok(!done, 'event stream ended');
    buf += decoder.decode(value);
  }
  const idling = c.idle();
  for (;;) {
    const { value, done } = await reader.read();
    assert.ok(!done, 'event stream ended');
    buf += decoder.decode(value);
    if (/"dir":"->","text":"\+ /.test(buf)) break;
  }
  await reader.cancel();
  await api('POST', '/api/users/alice/mailboxes/INBOX/messages', 'From: b@example.com\nSubject: pushed\n\nhi\n', 'message/rfc822');
  assert.equal(await pushed, before + 1);
  lock.release();
  await c.logout();
  await idling.catch(() => {});
});

test('an invalid fault is refused with what to fix', async () => {
  await assert.rejects(api('POST', '/api/faults', { when: { nth: 2 }, drop: 'fin' }),
    (err) => err.status === 400 && /when\.nth/.test(err.message));
});
