// Drives imapflow against the fake server for interop/imapflow_test.go.
// argv[2] is a JSON object: host, port, tls (none, starttls, implicit), ca
// (a PEM file to trust), user, pass, timeout (ms), and full, which adds
// flags, APPEND, EXPUNGE and, when idle is set, an IDLE that waits for a
// delivered message.
// Each step prints one JSON line on stdout; a failure prints imapflow's
// error fields as JSON on stderr and exits 1, so the Go test asserts on
// what imapflow itself reported.
import { readFileSync } from 'node:fs';
import { ImapFlow } from 'imapflow';

const o = JSON.parse(process.argv[2]);
const step = (name, detail) => console.log(JSON.stringify({ step: name, ...detail }));

const client = new ImapFlow({
  host: o.host,
  port: o.port,
  secure: o.tls === 'implicit',
  doSTARTTLS: o.tls === 'starttls',
  tls: o.ca ? { ca: [readFileSync(o.ca)] } : {},
  auth: { user: o.user, pass: o.pass },
  logger: false,
  connectionTimeout: o.timeout,
  greetingTimeout: o.timeout,
  socketTimeout: o.timeout,
  disableAutoIdle: true,
});
// imapflow reports a lost socket as an 'error' event besides rejecting the
// pending command; without a listener Node would crash instead.
client.on('error', () => {});

async function main() {
  await client.connect();
  step('login', { secure: client.secureConnection });
  const boxes = await client.list();
  step('list', { mailboxes: boxes.map((b) => b.path) });
  const box = await client.mailboxOpen('INBOX');
  // imapflow keeps updating box as EXISTS and EXPUNGE arrive.
  const exists = box.exists;
  step('select', { exists, flags: [...box.flags] });
  const subjects = [];
  for await (const m of client.fetch('1:*', { envelope: true, flags: true, source: true })) {
    subjects.push(m.envelope.subject);
  }
  step('fetch', { count: subjects.length });
  if (o.full) {
    await client.messageFlagsAdd('1', ['\\Flagged', '\\Seen']);
    let m = await client.fetchOne('1', { flags: true });
    if (!m.flags.has('\\Flagged')) throw new Error(`flags after adding \\Flagged: ${[...m.flags]}`);
    step('flags-add', { flags: [...m.flags] });
    await client.messageFlagsRemove('1', ['\\Flagged']);
    m = await client.fetchOne('1', { flags: true });
    if (m.flags.has('\\Flagged')) throw new Error(`flags after removing \\Flagged: ${[...m.flags]}`);
    step('flags-remove', { flags: [...m.flags] });
    const raw = 'From: imapflow <imapflow@example.com>\r\nTo: alice@localhost\r\nSubject: appended by imapflow\r\n\r\nHello.\r\n';
    const appended = await client.append('INBOX', raw, ['\\Seen']);
    step('append', { uid: appended.uid });
    const deleted = await client.messageDelete(String(appended.uid), { uid: true });
    const after = await client.status('INBOX', { messages: true });
    if (!deleted || after.messages !== exists) throw new Error(`after the expunge: ${after.messages} messages, want ${exists}`);
    step('expunge', { messages: after.messages });
  }
  if (o.full && o.idle) {
    const arrived = new Promise((resolve) => client.once('exists', resolve));
    client.idle();
    step('idle');
    const ev = await arrived;
    const n = await client.fetchOne(String(ev.count), { envelope: true });
    step('pushed', { count: ev.count, subject: n.envelope.subject });
  }
  await client.logout();
  step('logout');
}

main().catch((err) => {
  console.error(JSON.stringify({
    message: err.message,
    code: err.code,
    serverResponseCode: err.serverResponseCode,
    responseText: err.responseText,
    authenticationFailed: err.authenticationFailed,
  }));
  process.exit(1);
});
