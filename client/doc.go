// Package client is imapfault's tester: it walks an IMAP server phase by
// phase (connect, TLS, greeting, CAPABILITY, STARTTLS, authentication,
// LIST, SELECT, FETCH, IDLE, optionally a write round-trip, LOGOUT) and
// names what is wrong with one Diagnosis from a fixed taxonomy, together
// with the wire evidence and advice.
//
// The tester speaks the wire itself instead of using go-imap's client: it
// needs the exact bytes a server sent (a BYE's text, a literal's announced
// and received sizes, a banner of another protocol, plaintext where TLS
// was expected), and a deadline per step that holds whatever the server
// does. Every read is bounded in size and every step in time, so a hostile
// server can neither exhaust memory nor stall the check.
//
// Diagnoses are decided from evidence on the wire: response codes, status
// and phase, the type of a TLS or x509 error, end of stream or silence in
// a given phase. A server's free text never decides a code.
//
// Secrets never reach the transcript, the report or the logger: commands
// that carry them are recorded in a masked form, and every recorded line
// passes through a redactor that knows the secrets and their encodings.
package client
