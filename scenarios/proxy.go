package scenarios

import (
	"slices"
	"strings"
)

// proxyKeys are the keys that mean something in front of a real server
// (imapfault proxy): the faults, the certificate the proxy shows clients,
// and the names that describe the file.
var proxyKeys = []string{"name", "description", "layer", "faults", "server.certificate", "server.hostnames"}

// ForProxy is the Check of a scenario played in front of a real server
// by imapfault proxy. The real server has its own users, mailboxes,
// capabilities and TLS, and no tester runs against it: every other key
// is an error at its line, rather than something the proxy would quietly
// ignore.
func ForProxy(s *Scenario, report Report) {
	reported := map[string]bool{}
	pos := s.lines.Positions()
	paths := make([]string, 0, len(pos))
	for p := range pos {
		paths = append(paths, p)
	}
	// In file order, so that the first line of a section is reported.
	slices.SortFunc(paths, func(a, b string) int {
		if d := pos[a] - pos[b]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	for _, p := range paths {
		key := proxyKey(p)
		if key == "server" || slices.Contains(proxyKeys, key) || reported[key] {
			continue
		}
		reported[key] = true
		report(key, "means nothing in front of a real server: %s", proxyWhy(key))
	}
}

// proxyKey is the key a path is judged by: its top-level key, or the
// key under [server].
func proxyKey(path string) string {
	top, rest := path, ""
	if i := strings.IndexAny(path, ".["); i >= 0 {
		top, rest = path[:i], path[i:]
	}
	if top != "server" || !strings.HasPrefix(rest, ".") {
		return top
	}
	sub := rest[1:]
	if i := strings.IndexAny(sub, ".["); i >= 0 {
		sub = sub[:i]
	}
	return "server." + sub
}

// proxyWhy says why a key means nothing in front of a real server.
func proxyWhy(key string) string {
	switch key {
	case "users":
		return "it has its own accounts and mailboxes"
	case "server.tls", "server.plaintext_auth":
		return "the proxy speaks TLS as it does (see --upstream-tls)"
	case "client", "expect":
		return "the proxy runs no tester (run imapfault check against the proxy)"
	case "replay", "flavor":
		return "it gives its own replies (faults act on them as they pass)"
	}
	return "it decides that itself"
}
