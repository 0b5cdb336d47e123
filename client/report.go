package client

import (
	"encoding/json"
	"time"
)

// Report is everything one check learned. Its JSON form uses lower_snake
// field names and gives every duration in milliseconds (a float, field
// names ending in _ms); times are RFC 3339.
type Report struct {
	Target       string        `json:"target"`       // host:port as asked
	Address      string        `json:"address"`      // the IP address and port connected to
	TLSMode      TLSMode       `json:"tls_mode"`     // implicit, starttls or none
	Insecure     bool          `json:"insecure"`     // certificate verification was waived
	User         string        `json:"user"`         // empty for a probe
	Auth         string        `json:"auth"`         // how the check was asked to log in: login, plain, xoauth2, oauthbearer
	Mailbox      string        `json:"mailbox"`      // the mailbox selected
	Write        bool          `json:"write"`        // write steps were allowed
	Started      time.Time     `json:"started"`      // when the check began
	Duration     time.Duration `json:"-"`            // the whole check
	Steps        []Step        `json:"steps"`        // one per phase walked, in order
	Diagnosis    Diagnosis     `json:"diagnosis"`    // the primary one; Code "ok" when all is well
	Warnings     []Diagnosis   `json:"warnings"`     // problems that do not fail the check
	TLS          *TLSInfo      `json:"tls"`          // nil when TLS was not used
	Greeting     string        `json:"greeting"`     // the server's greeting line
	Server       ServerInfo    `json:"server"`       // what the server is, as far as the wire shows
	Capabilities []string      `json:"capabilities"` // the last capability list seen
	Mailboxes    int           `json:"mailboxes"`    // how many LIST returned
	Messages     int           `json:"messages"`     // EXISTS of the selected mailbox
	Newest       []Message     `json:"newest"`       // envelopes of the newest messages
	FlagLatency  time.Duration `json:"-"`            // how long a flag change took to show in the first session
	Transcript   []Event       `json:"transcript"`   // redacted
}

// OK reports whether the primary diagnosis is "ok".
func (r *Report) OK() bool { return r.Diagnosis.Code == CodeOK }

// Step is one phase of the walk.
type Step struct {
	Phase    string        `json:"phase"`
	Duration time.Duration `json:"-"`
	OK       bool          `json:"ok"`
	Warning  bool          `json:"warning"` // the step passed but drew a warning
	Detail   string        `json:"detail"`
}

// Diagnosis names what is wrong (or "ok"), where, on what evidence, and
// what a person can do about it.
type Diagnosis struct {
	Code     string `json:"code"`     // taxonomy code, e.g. "auth.failed"
	Phase    string `json:"phase"`    // the phase the evidence came from
	Evidence string `json:"evidence"` // the exact server line, TLS error, or silence observed
	Advice   string `json:"advice"`   // what a person can do
	// Likely is set when the code comes from a recognised server text
	// rather than from a response code or the protocol alone.
	Likely bool `json:"likely,omitempty"`
	// Recognised is the knowledge base entry the server's text matched.
	Recognised *Recognition `json:"recognised,omitempty"`
}

// Recognition is a well-known server text the tester recognised, from the
// knowledge base in package providers.
type Recognition struct {
	Entry    string `json:"entry"`    // the entry's ID, e.g. "gmail-too-many-connections"
	Provider string `json:"provider"` // the product the text belongs to
	Line     string `json:"line"`     // the server line that matched
	Meaning  string `json:"meaning"`
	Help     string `json:"help,omitempty"` // the provider's own help page
	Source   string `json:"source"`         // the public page that shows the text
	// WireCode is the code the response code and phase alone gave, when
	// the text changed it; Overruled is set when a response code kept its
	// code against the text.
	WireCode  string `json:"wire_code,omitempty"`
	Overruled bool   `json:"overruled,omitempty"`
}

// ServerInfo is what the wire shows of the server's software or
// provider: a fingerprint of greeting and capabilities, and its answer
// to ID (RFC 2971) when it advertises ID.
type ServerInfo struct {
	Product  string   `json:"product"`  // the knowledge base's ID, e.g. "gmail"; "" when not recognised
	Name     string   `json:"name"`     // e.g. "Gmail (Gimap)"
	Evidence []string `json:"evidence"` // the clues that matched
	// ID is the server's ID response as field/value pairs in its order;
	// nil when ID was not sent or the server answered NIL.
	ID []IDField `json:"id"`
}

// IDField is one field of an ID response.
type IDField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TLSInfo describes the negotiated TLS session and the peer certificate.
type TLSInfo struct {
	Version     string    `json:"version"`
	Cipher      string    `json:"cipher"`
	ServerName  string    `json:"server_name"`
	Subject     string    `json:"subject"`
	Issuer      string    `json:"issuer"`
	SANs        []string  `json:"sans"`
	NotBefore   time.Time `json:"not_before"`
	NotAfter    time.Time `json:"not_after"`
	Verified    bool      `json:"verified"`     // the chain and host name checked out
	VerifyError string    `json:"verify_error"` // why not, when not
}

// DaysLeft returns the whole days until the certificate expires, negative
// once it has.
func (t *TLSInfo) DaysLeft(now time.Time) int {
	return int(t.NotAfter.Sub(now).Hours() / 24)
}

// Message is the summary of one fetched message.
type Message struct {
	UID     uint32    `json:"uid"`
	Subject string    `json:"subject"`
	From    string    `json:"from"`
	Date    time.Time `json:"date"` // INTERNALDATE
	Size    int64     `json:"size"`
	// HeaderSize is the length of the header literal, which can never
	// exceed Size on a sane server.
	HeaderSize int64 `json:"header_size"`
}

// Event is one line of the transcript.
type Event struct {
	Elapsed time.Duration `json:"-"`
	Session int           `json:"session"` // 1 for the main session, 2 for the write round-trip's second one
	Dir     string        `json:"dir"`     // "->" sent, "<-" received, "~>"/"<~" inside TLS, "==" info, "!!" error
	Text    string        `json:"text"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MarshalJSON adds duration_ms and flag_latency_ms.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(struct {
		plain
		DurationMS    float64 `json:"duration_ms"`
		FlagLatencyMS float64 `json:"flag_latency_ms,omitempty"`
	}{plain(r), ms(r.Duration), ms(r.FlagLatency)})
}

// MarshalJSON adds duration_ms.
func (s Step) MarshalJSON() ([]byte, error) {
	type plain Step
	return json.Marshal(struct {
		plain
		DurationMS float64 `json:"duration_ms"`
	}{plain(s), ms(s.Duration)})
}

// MarshalJSON adds elapsed_ms.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	return json.Marshal(struct {
		plain
		ElapsedMS float64 `json:"elapsed_ms"`
	}{plain(e), ms(e.Elapsed)})
}
