package control

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/imapfault/imapfault/server"
)

// FuzzAPI sends arbitrary bodies to the operations that decode one: the
// answer is a success or a 4xx with a JSON error, never a panic or a 5xx.
func FuzzAPI(f *testing.F) {
	srv := server.NewTestBuiltin(f, "healthy")
	h, err := New([]Target{{Name: "healthy", Server: srv}}, Options{})
	if err != nil {
		f.Fatal(err)
	}
	ops := []struct{ method, path string }{
		{"POST", "/api/faults"},
		{"POST", "/api/users"},
		{"PUT", "/api/scenario"},
		{"POST", "/api/users/alice/mailboxes"},
		{"PUT", "/api/users/alice/mailboxes/INBOX/messages/1/flags"},
	}
	f.Add(uint8(0), []byte(`{"when": {"command": "LOGIN", "first": 2}, "respond": "NO [UNAVAILABLE] try later"}`))
	f.Add(uint8(1), []byte(`{"name": "carol", "password": "p"}`))
	f.Add(uint8(2), []byte(`{"name": "healthy"}`))
	f.Add(uint8(2), []byte("name = \"x\"\n[[users]]\nname = \"a\"\npassword = \"b\"\n"))
	f.Add(uint8(3), []byte(`{"name": "Archive", "special_use": "\\Archive"}`))
	f.Add(uint8(4), []byte(`{"flags": ["\\Seen", "$Label1"]}`))
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		o := ops[int(op)%len(ops)]
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(o.method, o.path, bytes.NewReader(body)))
		switch {
		case rec.Code >= 500:
			t.Fatalf("%s %s: %d %s", o.method, o.path, rec.Code, rec.Body)
		case rec.Code >= 400:
			var e apiError
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%s %s: %d with a body that is no JSON error: %q", o.method, o.path, rec.Code, rec.Body)
			}
		}
	})
}
