package client

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// saslMech builds the initial response of a mechanism and answers its
// challenges.
type saslMech struct {
	name    string
	initial []byte
	// oauth marks the mechanisms whose failure arrives as a JSON
	// challenge that must be acknowledged before the tagged NO.
	oauth bool
}

func newMech(o *Options, host, port string) saslMech {
	switch o.Auth {
	case AuthPlain:
		return saslMech{name: "PLAIN", initial: []byte("\x00" + o.User + "\x00" + o.Password)}
	case AuthXOAuth2:
		return saslMech{name: "XOAUTH2", oauth: true,
			initial: []byte("user=" + o.User + "\x01auth=Bearer " + o.Token + "\x01\x01")}
	case AuthOAuthBearer:
		return saslMech{name: "OAUTHBEARER", oauth: true,
			initial: []byte("n,a=" + saslName(o.User) + ",\x01host=" + host + "\x01port=" + port +
				"\x01auth=Bearer " + o.Token + "\x01\x01")}
	}
	return saslMech{}
}

// saslName escapes a gs2 authzid (RFC 5801 §4).
func saslName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

// oauthError is the JSON a server sends as the challenge of a failed
// XOAUTH2 or OAUTHBEARER exchange (RFC 7628 §3.2.2; Google's XOAUTH2 uses
// HTTP status numbers in the same field).
type oauthError struct {
	Status  string `json:"status"`
	Scope   string `json:"scope"`
	Schemes string `json:"schemes"`
}

// parseOAuthChallenge decodes a base64 JSON error challenge.
func parseOAuthChallenge(b64 string) (oauthError, error) {
	var e oauthError
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return e, fmt.Errorf("challenge is not base64: %w", err)
	}
	if len(raw) > 4096 {
		return e, fmt.Errorf("challenge of %d bytes is too long", len(raw))
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return e, fmt.Errorf("challenge is not JSON: %w", err)
	}
	return e, nil
}

// oauthCode maps the structured status of an OAuth error challenge.
func oauthCode(e oauthError) string {
	switch e.Status {
	case "insufficient_scope", "403":
		return CodeAuthOAuthScope
	}
	return CodeAuthOAuthTokenInvalid
}
