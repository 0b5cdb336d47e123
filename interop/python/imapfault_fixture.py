"""Start imapfault's fake IMAP server for a Python test suite and drive it
through its control API, with the standard library only.

    with ImapfaultServer(scenario="healthy") as srv:
        srv.add_fault({"when": {"command": "LOGIN", "first": 1},
                       "respond": "NO [UNAVAILABLE] try later"})
        ...

The binary is $IMAPFAULT_BIN, or "imapfault" on the PATH. With pytest,
the ``imapfault`` fixture below gives each test module one server and
resets it before every test.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request


class APIError(Exception):
    """A refusal by the control API: its status and what to fix."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class ImapfaultServer:
    """One ``imapfault serve --json --control`` process."""

    def __init__(self, scenario="healthy", tls=None, binary=None, timeout=30):
        self.binary = binary or os.environ.get("IMAPFAULT_BIN") or shutil.which("imapfault")
        if not self.binary:
            raise RuntimeError("imapfault not found: set IMAPFAULT_BIN or put it on the PATH")
        self.scenario, self.tls, self.timeout = scenario, tls, timeout
        self.proc = None

    def __enter__(self):
        self._dir = tempfile.TemporaryDirectory()
        ready = os.path.join(self._dir.name, "ready.json")
        args = [self.binary, "serve", "--scenario", self.scenario, "--control", "127.0.0.1:0",
                "--ready-file", ready, "--ca-out", os.path.join(self._dir.name, "ca.pem")]
        if self.tls:
            args += ["--tls", self.tls]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # The ready file appears whole once the server listens: wait for it
        # rather than scrape the human banner.
        deadline = time.monotonic() + self.timeout
        while not os.path.exists(ready):
            if self.proc.poll() is not None:
                raise RuntimeError("imapfault serve exited: " + self.proc.stderr.read().decode())
            if time.monotonic() > deadline:
                self.__exit__()
                raise TimeoutError("imapfault serve did not get ready")
            time.sleep(0.02)
        with open(ready) as f:
            self.ready = json.load(f)
        host, port = self.ready["address"].rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.ca_file = self.ready["ca_file"]
        self.control = self.ready["control"]
        self.users = {u["name"]: u["password"] for u in self.ready["users"]}
        return self

    def __exit__(self, *exc):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stderr.close()
        self._dir.cleanup()

    # The control API (see /openapi.json).

    def call(self, method, path, body=None, content_type="application/json", query=None):
        url = self.control + path
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        data = body
        if body is not None and not isinstance(body, (bytes, str)):
            data = json.dumps(body)
        if isinstance(data, str):
            data = data.encode()
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                if resp.headers.get_content_type() == "application/json" and raw:
                    return json.loads(raw)
                return raw
        except urllib.error.HTTPError as e:
            raise APIError(e.code, json.loads(e.read()).get("error", "")) from None

    def set_scenario(self, name):
        return self.call("PUT", "/api/scenario", {"name": name})

    def reset(self):
        return self.call("POST", "/api/reset")

    def add_fault(self, fault):
        return self.call("POST", "/api/faults", fault)

    def clear_faults(self):
        self.call("DELETE", "/api/faults")

    def deliver(self, user, mailbox, raw, flags=()):
        path = f"/api/users/{urllib.parse.quote(user, safe='')}/mailboxes/{urllib.parse.quote(mailbox, safe='')}/messages"
        return self.call("POST", path, raw, "message/rfc822", {"flag": list(flags)})["uid"]

    def messages(self, user, mailbox):
        return self.call("GET", f"/api/users/{urllib.parse.quote(user, safe='')}/mailboxes/{urllib.parse.quote(mailbox, safe='')}/messages")

    def events(self):
        """Subscribe to the transcript; returns an iterator of lines once
        the subscription is in place."""
        resp = urllib.request.urlopen(self.control + "/api/events", timeout=self.timeout)
        if resp.readline() != b": subscribed\n":
            raise RuntimeError("no event subscription")
        return _Events(resp)


class _Events:
    def __init__(self, resp):
        self.resp = resp

    def __iter__(self):
        event = None
        for raw in self.resp:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                if event != "line":
                    return
                yield json.loads(line[6:])

    def wait_for(self, match):
        for line in self:
            if match(line):
                return line
        raise EOFError("the event stream ended")

    def close(self):
        self.resp.close()


try:  # A pytest fixture, for suites that use pytest.
    import pytest

    @pytest.fixture(scope="module")
    def imapfault_server():
        with ImapfaultServer() as srv:
            yield srv

    @pytest.fixture
    def imapfault(imapfault_server):
        imapfault_server.reset()
        return imapfault_server
except ImportError:
    pass
