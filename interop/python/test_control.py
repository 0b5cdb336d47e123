"""A Python suite driving imapfault through its control API, as a mail
client's own tests would: python3 -m unittest test_control (or pytest)."""
import imaplib
import ssl
import threading
import unittest

from imapfault_fixture import APIError, ImapfaultServer


class ControlAPITest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = ImapfaultServer(scenario="healthy").__enter__()
        cls.password = cls.srv.users["alice"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__()

    def setUp(self):
        self.srv.reset()

    def connect(self):
        m = imaplib.IMAP4(self.srv.host, self.srv.port, timeout=10)
        m.starttls(ssl_context=ssl.create_default_context(cafile=self.srv.ca_file))
        return m

    def test_login_fails_once_then_recovers(self):
        self.srv.add_fault({"when": {"command": "LOGIN", "first": 1},
                            "respond": "NO [UNAVAILABLE] try later"})
        m = self.connect()
        with self.assertRaisesRegex(imaplib.IMAP4.error, r"\[UNAVAILABLE\] try later"):
            m.login("alice", self.password)
        m.shutdown()
        m = self.connect()
        self.assertEqual(m.login("alice", self.password)[0], "OK")
        m.logout()

    def test_deliver_and_see_what_the_client_did(self):
        uid = self.srv.deliver("alice", "INBOX", "From: b@example.com\nSubject: from python\n\nhi\n")
        m = self.connect()
        m.login("alice", self.password)
        typ, data = m.select("INBOX")
        self.assertEqual(typ, "OK")
        m.uid("STORE", str(uid), "+FLAGS", r"(\Flagged)")
        m.logout()
        msg = [x for x in self.srv.messages("alice", "INBOX") if x["uid"] == uid][0]
        self.assertEqual(msg["subject"], "from python")
        self.assertIn(r"\Flagged", msg["flags"])

    def test_wait_for_logout_on_the_event_stream(self):
        events = self.srv.events()
        try:
            m = self.connect()
            m.login("alice", self.password)
            # Log out from another thread while this one waits: the wait
            # ends on the event, not on a sleep.
            t = threading.Thread(target=m.logout)
            t.start()
            line = events.wait_for(lambda l: l["dir"] == "<-" and l["text"].endswith(" LOGOUT"))
            t.join()
            self.assertGreater(line["conn"], 0)
        finally:
            events.close()

    def test_switch_scenario(self):
        self.srv.set_scenario("login-rejected")
        m = self.connect()
        with self.assertRaisesRegex(imaplib.IMAP4.error, "AUTHENTICATIONFAILED"):
            m.login("alice", self.password)
        m.shutdown()
        self.srv.set_scenario("healthy")

    def test_bad_fault_is_refused_with_a_reason(self):
        with self.assertRaises(APIError) as cm:
            self.srv.add_fault({"when": {"nth": 2}, "drop": "fin"})
        self.assertEqual(cm.exception.status, 400)
        self.assertIn("when.nth", cm.exception.message)


if __name__ == "__main__":
    unittest.main()
