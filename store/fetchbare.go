package store

import (
	"io"
	"strconv"
	"time"

	"github.com/emersion/go-imap/v2"
)

// The FETCH a client syncs a mailbox with, FETCH 1:* (FLAGS) or (UID) or
// both, is written here, below go-imap, as lines of the response go-imap
// would write: its FetchWriter costs three allocations, two write
// deadlines and a flush per message, and was the floor that kept the fake
// slower than Dovecot over 10,000 to 100,000 messages (issue 19; the
// profile and the fix to offer upstream are in UPSTREAM.md). Writing to
// the connection below go-imap is in order for the reason
// announcePermanentFlags gives: go-imap has flushed everything before it
// calls Fetch, and writes the tagged reply after Fetch returns. The lines
// go through the wire layer like any other server line, so the faults and
// the transcript see each one. A FETCH that asks for anything else, or
// whose flags go-imap would refuse to encode, goes through go-imap.

// bareWriteTimeout is go-imap's write timeout for a response
// (imapserver's respWriteTimeout), which its writer would have set.
const bareWriteTimeout = 30 * time.Second

// bareChunk is how many bytes of response lines are written at once.
const bareChunk = 32 << 10

// bareFetch reports whether options ask for the UID and the flags alone
// (the UID comes in every response, as in Fetch's own path).
func bareFetch(o *imap.FetchOptions) bool {
	return o.BodyStructure == nil && !o.Envelope && !o.InternalDate && !o.RFC822Size &&
		len(o.BodySection) == 0 && len(o.BinarySection) == 0 && len(o.BinarySectionSize) == 0 &&
		!o.ModSeq && o.ChangedSince == 0
}

// validFlags reports whether go-imap would encode every flag of list, as
// its encoder's isValidFlag decides: one atom, a backslash allowed first.
func validFlags(list []fetched) bool {
	for _, f := range list {
		if len(f.msg.flags.keywords) == 0 {
			continue // system flags only
		}
		for _, flag := range f.flags {
			if !validFlag(flag) {
				return false
			}
		}
	}
	return true
}

func validFlag(flag imap.Flag) bool {
	for i := 0; i < len(flag); i++ {
		switch c := flag[i]; {
		case c == '\\' && i == 0:
		case c <= 0x1f || c == 0x7f, c >= 0x80 && c <= 0x9f: // unicode.IsControl of the byte
			return false
		case c == '(' || c == ')' || c == '{' || c == ' ' || c == '%' || c == '*' || c == '"' || c == '\\' || c == ']':
			return false
		}
	}
	return len(flag) > 0
}

// writeBare writes "* N FETCH (UID n FLAGS (...))" for each message, in
// chunks, under go-imap's write deadline when w has one.
func writeBare(w io.Writer, list []fetched, flags bool) error {
	if d, ok := w.(interface{ SetWriteDeadline(time.Time) error }); ok {
		if err := d.SetWriteDeadline(time.Now().Add(bareWriteTimeout)); err != nil {
			return err
		}
		defer d.SetWriteDeadline(time.Time{})
	}
	buf := make([]byte, 0, bareChunk+512)
	for _, f := range list {
		buf = append(buf, "* "...)
		buf = strconv.AppendUint(buf, uint64(f.seqNum), 10)
		buf = append(buf, " FETCH (UID "...)
		buf = strconv.AppendUint(buf, uint64(f.msg.uid), 10)
		if flags {
			buf = append(buf, " FLAGS ("...)
			for i, flag := range f.flags {
				if i > 0 {
					buf = append(buf, ' ')
				}
				buf = append(buf, flag...)
			}
			buf = append(buf, ')')
		}
		buf = append(buf, ")\r\n"...)
		if len(buf) >= bareChunk {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		_, err := w.Write(buf)
		return err
	}
	return nil
}
