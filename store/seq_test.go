package store

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/google/go-cmp/cmp"
)

// TestForEachSeqSet: a sequence set picks the messages as the client
// numbers them, each once and in order, with nothing queued for the
// session (the numbers are the server's) and while an EXPUNGE and an
// EXISTS wait in its queue (they differ).
func TestForEachSeqSet(t *testing.T) {
	m := NewMailbox("INBOX", 1)
	for range 6 {
		m.Append([]byte("Subject: x\r\n\r\nb\r\n"), nil, time.Now())
	}
	v := m.NewView()
	defer v.Close()
	visit := func(set string) (uids []imap.UID, clientNums []uint32) {
		var seqSet imap.SeqSet
		for _, r := range strings.Split(set, ",") {
			start, stop, _ := strings.Cut(r, ":")
			if stop == "" {
				stop = start
			}
			seqSet.AddRange(seqNum(t, start), seqNum(t, stop))
		}
		uids = []imap.UID{}
		m.mutex.Lock()
		defer m.mutex.Unlock()
		v.forEachLocked(seqSet, func(_, c uint32, msg *message) {
			uids = append(uids, msg.uid)
			clientNums = append(clientNums, c)
		})
		return uids, clientNums
	}
	stages := []struct {
		name   string
		change func()
		want   map[string][]imap.UID
	}{
		{"nothing queued", func() {}, map[string][]imap.UID{
			"1": {1}, "2:4": {2, 3, 4}, "*": {6}, "1:*": {1, 2, 3, 4, 5, 6},
			"5,1,3": {1, 3, 5}, "3,2:4": {2, 3, 4}, "7": {}, "6:*": {6},
		}},
		// The client still numbers UID 2 as 2, and UID 3 as 3.
		{"EXPUNGE of UID 2 queued", func() {
			m.mutex.Lock()
			m.expungeLocked(func(msg *message) bool { return msg.uid == 2 })
			m.mutex.Unlock()
		}, map[string][]imap.UID{
			"1": {1}, "2": {}, "2:4": {3, 4}, "1:3": {1, 3}, "5,1,3": {1, 3, 5}, "6": {6}, "7": {},
		}},
		// UID 7 is server number 6, which the client has not been given.
		{"EXISTS queued too", func() { m.Append([]byte("Subject: y\r\n\r\nb\r\n"), nil, time.Now()) }, map[string][]imap.UID{
			"5:7": {5, 6}, "3:4": {3, 4}, "2": {},
		}},
	}
	for _, st := range stages {
		st.change()
		for set, want := range st.want {
			got, clientNums := visit(set)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: set %s (-want +got):\n%s", st.name, set, diff)
			}
			// Each message is visited under the number the client asked for.
			for _, c := range clientNums {
				if !slices.ContainsFunc(strings.Split(set, ","), func(r string) bool { return inRange(t, r, c) }) {
					t.Errorf("%s: set %s visited client number %d", st.name, set, c)
				}
			}
		}
	}
}

// seqNum reads a sequence number, "*" as go-imap's 0.
func seqNum(t *testing.T, s string) uint32 {
	if s == "*" {
		return 0
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(n)
}

// inRange reports whether n is in the range r ("a", "a:b", "*" as 6).
func inRange(t *testing.T, r string, n uint32) bool {
	start, stop, _ := strings.Cut(r, ":")
	if stop == "" {
		stop = start
	}
	a, b := seqNum(t, start), seqNum(t, stop)
	if a == 0 {
		a = 6
	}
	if b == 0 {
		b = 6
	}
	return min(a, b) <= n && n <= max(a, b)
}
