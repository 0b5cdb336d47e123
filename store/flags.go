package store

import (
	"slices"

	"github.com/emersion/go-imap/v2"
)

// msgFlags are a message's flags: a bit for each of the system flags
// (mailboxSystemFlags, in that order), then its keywords in the order they
// were set. imapmemserver kept a map per message: a FETCH 1:* (FLAGS)
// made a list from each (an allocation per message, in the map's random
// order), and 100,000 messages held 100,000 maps (issue 19).
type msgFlags struct {
	sys      uint8
	keywords []imap.Flag
}

// sysLists holds, for each set of system flags (5 bits: one per
// mailboxSystemFlags), its FLAGS list, without and with \Recent: a message
// without keywords shares one of them, read-only.
var sysLists = func() (l [2][1 << 5][]imap.Flag) {
	for bits := range l[0] {
		var flags []imap.Flag
		for i, f := range mailboxSystemFlags {
			if bits&(1<<i) != 0 {
				flags = append(flags, f)
			}
		}
		l[0][bits] = slices.Clip(flags)
		l[1][bits] = slices.Clip(append(slices.Clone(flags), flagRecent))
	}
	return l
}()

// sysBit returns the bit of a canonical system flag, or 0 for a keyword.
func sysBit(f imap.Flag) uint8 {
	if i := slices.Index(mailboxSystemFlags, f); i >= 0 {
		return 1 << i
	}
	return 0
}

// has reports whether the message has flag, which must be canonical.
func (m *msgFlags) has(f imap.Flag) bool {
	if bit := sysBit(f); bit != 0 {
		return m.sys&bit != 0
	}
	return slices.Contains(m.keywords, f)
}

// add sets flag, which must be canonical and not \Recent.
func (m *msgFlags) add(f imap.Flag) {
	if bit := sysBit(f); bit != 0 {
		m.sys |= bit
	} else if !slices.Contains(m.keywords, f) {
		m.keywords = append(m.keywords, f)
	}
}

// del clears flag, which must be canonical.
func (m *msgFlags) del(f imap.Flag) {
	if bit := sysBit(f); bit != 0 {
		m.sys &^= bit
	} else if i := slices.Index(m.keywords, f); i >= 0 {
		// No list handed out shares this array: list copies keywords.
		m.keywords = slices.Delete(m.keywords, i, i+1)
		if len(m.keywords) == 0 {
			m.keywords = nil
		}
	}
}

// list returns the flags in their wire order: the system flags as FLAGS
// lists them, the keywords, then \Recent when recent. The slice may be
// shared: callers must not modify it.
func (m *msgFlags) list(recent bool) []imap.Flag {
	r := 0
	if recent {
		r = 1
	}
	if len(m.keywords) == 0 {
		return sysLists[r][m.sys]
	}
	sys := sysLists[0][m.sys]
	flags := make([]imap.Flag, 0, len(sys)+len(m.keywords)+r)
	flags = append(append(flags, sys...), m.keywords...)
	if recent {
		flags = append(flags, flagRecent)
	}
	return flags
}
