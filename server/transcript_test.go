package server

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/faults"
)

func TestTranscriptEntries(t *testing.T) {
	at := time.Date(2026, 11, 22, 9, 30, 0, 0, time.Local)
	events := []faults.TapEvent{
		{Conn: 1, Time: at, Dir: faults.DirOut, Data: []byte("* OK ready\r\n")},
		{Conn: 1, Time: at, Dir: faults.DirIn, Data: []byte("a1 LOGIN alice ********\r\n")},
		{Conn: 2, Time: at, Dir: faults.DirIn, Data: []byte("c2VjcmV0\r\n"), Secret: true},
		{Conn: 2, Time: at, Dir: faults.DirOut, Data: bytes.Repeat([]byte("x"), 300), Literal: true},
		{Conn: 2, Time: at, Dir: faults.DirOut, Data: []byte("* 1 FETCH (BODY[] \xff\xfe)\n")},
		{Conn: 2, Time: at, Dir: faults.DirInfo, Data: []byte("fault: connection reset")},
		{Conn: 3, Time: at, Dir: faults.DirOut, Data: nil},
	}
	want := []Entry{
		{Time: at, Conn: 1, Dir: "->", Text: "* OK ready"},
		{Time: at, Conn: 1, Dir: "<-", Text: "a1 LOGIN alice ********"},
		{Time: at, Conn: 2, Dir: "<-", Text: "[10 bytes of credentials masked]"},
		{Time: at, Conn: 2, Dir: "->", Text: "[literal, 300 bytes]"},
		{Time: at, Conn: 2, Dir: "->", Text: "* 1 FETCH (BODY[] ?)"},
		{Time: at, Conn: 2, Dir: "==", Text: "fault: connection reset"},
		{Time: at, Conn: 3, Dir: "->", Text: ""},
	}
	var live strings.Builder
	tr := newTranscript(&live)
	for _, ev := range events {
		tr.record(ev)
	}
	if diff := cmp.Diff(want, tr.entries()); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	var wantLive strings.Builder
	for _, e := range want {
		fmt.Fprintln(&wantLive, e)
	}
	if diff := cmp.Diff(wantLive.String(), live.String()); diff != "" {
		t.Errorf("live transcript (-want +got):\n%s", diff)
	}
}

// TestTranscriptBounds checks that the transcript keeps the most recent
// lines, in order, within its bounds on lines and on text.
func TestTranscriptBounds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lines    int
		size     int
		minKept  int
		maxKept  int
		maxBytes int
	}{
		{name: "few lines", lines: 100, size: 20, minKept: 100, maxKept: 100},
		{name: "many short lines", lines: 3 * keepEntries, size: 20, minKept: keepEntries, maxKept: keepEntries + pageEntries},
		// A 60 KiB line fills a page: the pages' memory bounds the lines.
		{name: "long lines", lines: 500, size: 60 << 10, minKept: keepMem/pageMem(pageText) - 1, maxKept: keepMem / pageMem(pageText), maxBytes: keepMem},
		{name: "longer than a page", lines: 10, size: 3 * pageText, minKept: 10, maxKept: 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTranscript(nil)
			for i := range tc.lines {
				line := fmt.Appendf(nil, "%08d ", i)
				line = append(line, bytes.Repeat([]byte("y"), tc.size-len(line))...)
				tr.record(faults.TapEvent{Conn: i, Dir: faults.DirOut, Data: line})
			}
			got := tr.entries()
			if len(got) < tc.minKept || len(got) > tc.maxKept {
				t.Fatalf("kept %d lines, want %d to %d", len(got), tc.minKept, tc.maxKept)
			}
			size := 0
			for i, e := range got {
				if want := tc.lines - len(got) + i; e.Conn != want || !strings.HasPrefix(e.Text, fmt.Sprintf("%08d ", want)) {
					t.Fatalf("line %d is from connection %d (%.9q), want %d", i, e.Conn, e.Text, want)
				}
				size += len(e.Text)
			}
			if tc.maxBytes > 0 && size > tc.maxBytes {
				t.Errorf("kept %d bytes of text, want at most %d", size, tc.maxBytes)
			}
		})
	}
}

// TestTranscriptRecordAllocs checks that recording a line allocates
// nothing once the transcript is full: per-line allocations were what made
// the transcript cost idle connections most, and dropped pages were most
// of a busy server's garbage.
func TestTranscriptRecordAllocs(t *testing.T) {
	tr := newTranscript(nil)
	ev := faults.TapEvent{Conn: 1, Time: time.Now(), Dir: faults.DirOut, Data: []byte("* 3 EXISTS\r\n")}
	for range 2 * keepEntries {
		tr.record(ev)
	}
	if n := testing.AllocsPerRun(3*keepEntries, func() { tr.record(ev) }); n != 0 {
		t.Errorf("record allocates %v times per line, want 0", n)
	}
}

func BenchmarkTranscriptRecord(b *testing.B) {
	tr := newTranscript(nil)
	ev := faults.TapEvent{Conn: 1, Time: time.Now(), Dir: faults.DirOut, Data: []byte("* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n")}
	b.ReportAllocs()
	for b.Loop() {
		tr.record(ev)
	}
}
