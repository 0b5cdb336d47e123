package client

import (
	"context"
	"errors"
	"time"
)

// logout ends the session politely. A BYE followed by the end of the
// connection without the tagged OK is tolerated: many servers do that.
func (w *walk) logout(ctx context.Context) (string, *Diagnosis) {
	return logout(w.s)
}

func logout(s *session) (string, *Diagnosis) {
	start := time.Now()
	resp, err := s.command("LOGOUT", nil)
	var bye *byeError
	switch {
	case errors.As(err, &bye):
		return "BYE, then the server closed without a tagged OK", nil
	case err != nil:
		d := failureDiag("logout", "LOGOUT", time.Since(start), s.lastLine, err)
		return "", &d
	case resp.Status != "OK":
		d := statusDiag("logout", resp)
		return "", &d
	}
	return resp.Raw, nil
}
