"""Drives Python's imaplib against the fake server for interop/imaplib_test.go.

Usage: imaplib_client.py HOST PORT none|starttls|implicit CAFILE TIMEOUT full|read
The user and password come from IMAP_USER and IMAP_PASSWORD, not argv;
IMAP_SUBJECT is the subject of the first message (default the fake
server's).

"read" logs in, lists, selects INBOX and fetches the first message; "full"
also sets and clears a flag, appends and expunges. Each step prints a line;
a failure is imaplib's own exception, left to end the process with its
traceback, so that the test asserts on what a customer's script would see.
"""
import imaplib
import os
import ssl
import sys

host, port, mode, cafile, timeout, what = sys.argv[1:7]
port, timeout = int(port), float(timeout)
ctx = ssl.create_default_context(cafile=cafile) if cafile else None

if mode == "implicit":
    m = imaplib.IMAP4_SSL(host, port, ssl_context=ctx, timeout=timeout)
else:
    m = imaplib.IMAP4(host, port, timeout=timeout)
    if mode == "starttls":
        m.starttls(ssl_context=ctx)


def ok(step, typ, data):
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{step}: {typ} {data}")
    print(step, data)
    return data


ok("login", *m.login(os.environ["IMAP_USER"], os.environ["IMAP_PASSWORD"]))
boxes = ok("list", *m.list())
assert any(b.endswith(b" INBOX") for b in boxes), boxes
ok("select", *m.select("INBOX"))
data = ok("fetch", *m.fetch("1", "(FLAGS BODY.PEEK[])"))
subject = os.environ.get("IMAP_SUBJECT", "Lunch on Thursday?").encode()
assert b"Subject: " + subject in data[0][1], data[0][1][:200]

if what == "full":
    data = ok("flag", *m.store("1", "+FLAGS", "(\\Flagged)"))
    assert b"\\Flagged" in data[0], data
    data = ok("unflag", *m.store("1", "-FLAGS", "(\\Flagged)"))
    assert b"\\Flagged" not in data[0], data
    msg = b"From: imaplib <imaplib@example.com>\r\nTo: alice@localhost\r\nSubject: appended by imaplib\r\n\r\nHello.\r\n"
    ok("append", *m.append("INBOX", "(\\Seen)", None, msg))
    found = ok("search", *m.search(None, "SUBJECT", '"appended by imaplib"'))[0].split()
    assert len(found) == 1, found
    ok("delete", *m.store(found[0], "+FLAGS", "(\\Deleted)"))
    expunged = ok("expunge", *m.expunge())
    assert expunged == [found[0]], (expunged, found)

print("logout", m.logout())
