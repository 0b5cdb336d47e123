// Package interop proves both tools with real programs on loopback: the
// tester against Debian's dovecot-imapd started from a throwaway
// configuration, and real IMAP clients (curl, Python's imaplib, mbsync,
// fetchmail, imapflow) against the fake server. Its tests carry the build
// tag "interop" (run them with "make interop", which also writes the
// client × scenario table to docs/interop.md); a missing program, or root
// for dovecot, makes them skip with a message saying what to install.
package interop
