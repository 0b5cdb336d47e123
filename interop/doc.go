// Package interop runs the tester against real IMAP servers started on
// loopback from throwaway configurations. Its tests carry the build tag
// "interop" (run them with "make interop"): they need Debian's
// dovecot-imapd and root, and skip with a message when either is missing.
package interop
