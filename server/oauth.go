package server

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// oauthServer is the server side of XOAUTH2 and OAUTHBEARER (RFC 7628).
// go-sasl has no XOAUTH2 server, and its OAUTHBEARER server panics on the
// empty acknowledgement some clients send after an error; both need the
// same failure dance, so one small type does both.
type oauthServer struct {
	xoauth2 bool
	// check returns "" for a good token, or the RFC 7628 status to reject
	// it with (invalid_token, insufficient_scope, ...), or an error that
	// ends the exchange without a challenge.
	check  func(user, token string) (string, error)
	failed bool
}

var errAuthFailed = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Invalid bearer token"}

// Next implements sasl.Server.
func (o *oauthServer) Next(resp []byte) ([]byte, bool, error) {
	if o.failed {
		// Whatever the client answers to the error challenge (an empty
		// response, or 0x01 for OAUTHBEARER), the exchange ends in NO.
		return nil, true, errAuthFailed
	}
	if resp == nil {
		return []byte{}, false, nil
	}
	user, token, ok := parseOAuth(resp, o.xoauth2)
	reason := "invalid_request"
	if ok {
		var err error
		if reason, err = o.check(user, token); err != nil {
			return nil, true, err
		}
		if reason == "" {
			return nil, true, nil
		}
	}
	o.failed = true
	status := map[string]string{"status": reason, "schemes": "bearer", "scope": "https://mail.example.com/"}
	if o.xoauth2 {
		// Google's XOAUTH2 speaks HTTP statuses in the same JSON.
		code := "401"
		if reason == "insufficient_scope" {
			code = "403"
		}
		status = map[string]string{"status": code, "schemes": "Bearer", "scope": "https://mail.example.com/"}
	}
	challenge, _ := json.Marshal(status)
	return challenge, false, nil
}

// parseOAuth extracts the user and the bearer token from an XOAUTH2
// ("user=U\x01auth=Bearer T\x01\x01") or OAUTHBEARER
// ("n,a=U,\x01host=...\x01auth=Bearer T\x01\x01") initial response.
func parseOAuth(resp []byte, xoauth2 bool) (user, token string, ok bool) {
	fields := resp
	if !xoauth2 {
		parts := bytes.SplitN(resp, []byte(","), 3)
		if len(parts) != 3 || string(parts[0]) != "n" {
			return "", "", false
		}
		user = strings.TrimPrefix(string(parts[1]), "a=")
		fields = parts[2]
	}
	for _, kv := range bytes.Split(fields, []byte{1}) {
		k, v, _ := strings.Cut(string(kv), "=")
		switch k {
		case "user":
			user = v
		case "auth":
			if t, found := strings.CutPrefix(v, "Bearer "); found {
				token = t
			}
		}
	}
	return user, token, user != "" && token != ""
}
