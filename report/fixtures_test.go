package report

import (
	"fmt"
	"time"

	"github.com/imapfault/imapfault/client"
)

// The fixed reports the golden files and the browser tests render: a
// healthy check over implicit TLS, a check that fails at login after a
// long session, one refused at connect, and one that passes with
// warnings (a certificate about to expire, a plaintext login).
var started = time.Date(2026, 10, 5, 14, 3, 7, 0, time.UTC)

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

func healthyReport() *client.Report {
	rep := &client.Report{
		Target: "imap.example.com:993", Address: "192.0.2.10:993", TLSMode: client.TLSImplicit,
		User: "alice", Mailbox: "INBOX", Started: started,
		Greeting:     "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN IDLE] Dovecot ready.",
		Capabilities: []string{"IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "LITERAL+", "AUTH=PLAIN", "AUTH=LOGIN"},
		Mailboxes:    7, Messages: 1284,
		TLS: &client.TLSInfo{
			Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", ServerName: "imap.example.com",
			Subject: "CN=imap.example.com", Issuer: "CN=Example Issuing CA 2,O=Example Trust",
			SANs:      []string{"imap.example.com", "mail.example.com"},
			NotBefore: started.AddDate(0, -1, 0), NotAfter: started.AddDate(0, 2, 0), Verified: true,
		},
		Diagnosis: client.Diagnosis{Code: client.CodeOK, Phase: "logout", Evidence: "every step passed"},
		Warnings:  []client.Diagnosis{},
	}
	for _, s := range []struct {
		phase  string
		d      float64
		detail string
	}{
		{"connect", 12.4, "192.0.2.10:993 (IPv4)"},
		{"tls", 31.8, "TLS 1.3, verified for imap.example.com, expires 2026-12-05 (61 days)"},
		{"greeting", 2.1, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN IDLE] Dovecot ready."},
		{"capability", 1.3, "9 capabilities"},
		{"auth", 48.9, "AUTHENTICATE PLAIN accepted"},
		{"list", 3.7, "7 mailboxes, INBOX among them"},
		{"select", 2.9, "INBOX: 1284 messages, UIDVALIDITY 1700000000"},
		{"fetch", 9.6, "newest 5 messages fetched"},
		{"idle", 1002.2, "IDLE accepted, DONE answered"},
		{"logout", 1.1, "BYE received"},
	} {
		rep.Steps = append(rep.Steps, client.Step{Phase: s.phase, Duration: ms(s.d), OK: true, Detail: s.detail})
		rep.Duration += ms(s.d)
	}
	at := time.Duration(0)
	add := func(dir, text string) {
		at += ms(1.7)
		rep.Transcript = append(rep.Transcript, client.Event{Elapsed: at, Session: 1, Dir: dir, Text: text})
	}
	add("==", "connected to 192.0.2.10:993 (IPv4)")
	add("==", "TLS 1.3 TLS_AES_128_GCM_SHA256, subject CN=imap.example.com")
	add("<~", rep.Greeting)
	add("~>", "a1 CAPABILITY")
	add("<~", "* CAPABILITY "+fmt.Sprint(rep.Capabilities))
	add("<~", "a1 OK Capability completed.")
	add("~>", "a2 AUTHENTICATE PLAIN ********")
	add("<~", "a2 OK Logged in")
	add("~>", "a3 LOGOUT")
	add("<~", "* BYE Logging out")
	add("<~", "a3 OK Logout completed.")
	return rep
}

func failingReport() *client.Report {
	rep := &client.Report{
		Target: "mail.example.org:143", Address: "198.51.100.7:143", TLSMode: client.TLSStartTLS,
		User: "bob@example.org", Mailbox: "INBOX", Started: started,
		Greeting:     "* OK IMAP4rev1 server ready <script>alert(1)</script>",
		Capabilities: []string{"IMAP4rev1", "STARTTLS", "AUTH=PLAIN", "AUTH=XOAUTH2"},
		TLS: &client.TLSInfo{
			Version: "TLS 1.2", Cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", ServerName: "mail.example.org",
			Subject: "CN=mail.example.org", Issuer: "CN=Example Issuing CA 2,O=Example Trust",
			SANs:      []string{"mail.example.org"},
			NotBefore: started.AddDate(0, -3, 0), NotAfter: started.AddDate(0, 0, 9), Verified: true,
		},
		Diagnosis: client.Diagnosis{
			Code: client.CodeAuthFailed, Phase: "auth",
			Evidence: "a4 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)",
			Advice:   "The server rejected the user name or password. Check them; an account with two-factor authentication may need an app password.",
		},
		Warnings: []client.Diagnosis{{
			Code: client.CodeTLSCertExpiring, Phase: "tls",
			Evidence: "certificate expires 2026-10-14T14:03:07Z, in 9 days",
			Advice:   "Renew the certificate before it expires.",
		}},
	}
	for _, s := range []struct {
		phase  string
		d      float64
		warn   bool
		detail string
	}{
		{"connect", 21.0, false, "198.51.100.7:143 (IPv4)"},
		{"greeting", 180.3, false, rep.Greeting},
		{"capability", 4.4, false, "4 capabilities"},
		{"starttls", 3.9, false, "STARTTLS accepted"},
		{"tls", 95.2, true, "TLS 1.2, verified for mail.example.org"},
		{"capability", 4.1, false, "4 capabilities"},
	} {
		rep.Steps = append(rep.Steps, client.Step{Phase: s.phase, Duration: ms(s.d), OK: true, Warning: s.warn, Detail: s.detail})
		rep.Duration += ms(s.d)
	}
	rep.Steps = append(rep.Steps, client.Step{Phase: "auth", Duration: ms(2011.5), Detail: "AUTHENTICATE PLAIN rejected"})
	rep.Duration += ms(2011.5)
	at := time.Duration(0)
	add := func(dir, text string) {
		at += ms(0.9)
		rep.Transcript = append(rep.Transcript, client.Event{Elapsed: at, Session: 1, Dir: dir, Text: text})
	}
	add("==", "connected to 198.51.100.7:143 (IPv4)")
	add("<-", rep.Greeting)
	add("->", "a1 CAPABILITY")
	add("<-", "* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN AUTH=XOAUTH2")
	add("<-", "a1 OK done")
	add("->", "a2 STARTTLS")
	add("<-", "a2 OK Begin TLS negotiation now")
	add("==", "warning tls.cert_expiring: certificate expires 2026-10-14T14:03:07Z, in 9 days")
	add("~>", "a3 CAPABILITY")
	// A chatty server: the long transcript a support engineer scrolls.
	for i := range 240 {
		add("<~", fmt.Sprintf("* OK [ALERT] maintenance notice %03d: the quick brown fox jumps over the lazy dog, a line long enough to wrap on a narrow window", i))
	}
	add("<~", "* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2")
	add("<~", "a3 OK done")
	add("~>", "a4 AUTHENTICATE PLAIN ********")
	add("<~", rep.Diagnosis.Evidence)
	add("!!", "auth.failed: "+rep.Diagnosis.Evidence)
	add("==", "closed: 14020 bytes received, 96 sent")
	return rep
}

func refusedReport() *client.Report {
	return &client.Report{
		Target: "localhost:1", TLSMode: client.TLSStartTLS, Started: started, Duration: ms(0.4),
		Steps: []client.Step{{Phase: "connect", Duration: ms(0.4), Detail: "tcp.refused"}},
		Diagnosis: client.Diagnosis{
			Code: client.CodeTCPRefused, Phase: "connect",
			Evidence: "dial tcp 127.0.0.1:1: connect: connection refused",
			Advice:   "Nothing listens on that port: check the host and port, and that the IMAP service runs.",
		},
		Warnings:     []client.Diagnosis{},
		Capabilities: []string{},
		Transcript: []client.Event{
			{Elapsed: ms(0.4), Session: 1, Dir: "!!", Text: "connect to localhost:1 (127.0.0.1, IPv4): connection refused"},
			{Elapsed: ms(0.4), Session: 1, Dir: "!!", Text: "tcp.refused: dial tcp 127.0.0.1:1: connect: connection refused"},
		},
	}
}

func warningReport() *client.Report {
	rep := healthyReport()
	rep.Target, rep.TLSMode, rep.TLS = "imap.example.net:143", client.TLSNone, nil
	rep.Steps = rep.Steps[:len(rep.Steps)-1]
	rep.Steps = append(rep.Steps[:1], rep.Steps[2:]...)
	rep.Steps[3].Warning = true
	rep.Warnings = []client.Diagnosis{{
		Code: client.CodeSecurityPlaintextLogin, Phase: "auth",
		Evidence: "the password was sent without TLS",
		Advice:   "Use --tls starttls or implicit TLS; ask the provider to require it.",
	}}
	return rep
}

// fixtures names every fixed report, for table-driven tests.
var fixtures = []struct {
	name string
	rep  func() *client.Report
}{
	{"healthy", healthyReport},
	{"failing", failingReport},
	{"refused", refusedReport},
	{"warning", warningReport},
}
