// Package phase names the steps of the tester's walk: the values of
// client.Step.Phase and client.Diagnosis.Phase, and of a scenario's
// [expect] phase and durations keys. It is a leaf package, so that
// scenarios can check those names against the one list without importing
// the tester.
package phase

// Phase is one step of the tester's walk.
type Phase string

// The phases, in the order the walk reaches them (tls comes before the
// greeting with implicit TLS, after starttls otherwise).
const (
	Connect    Phase = "connect"
	TLS        Phase = "tls"
	Greeting   Phase = "greeting"
	Capability Phase = "capability"
	StartTLS   Phase = "starttls"
	Auth       Phase = "auth"
	ID         Phase = "id" // RFC 2971, when the server advertises it
	List       Phase = "list"
	Select     Phase = "select"
	Fetch      Phase = "fetch"
	Idle       Phase = "idle"
	Append     Phase = "append"
	Flags      Phase = "flags"
	Delete     Phase = "delete"
	Logout     Phase = "logout"
)

// All returns every phase, in walk order.
func All() []Phase {
	return []Phase{Connect, TLS, Greeting, Capability, StartTLS, Auth, ID, List, Select, Fetch, Idle, Append, Flags, Delete, Logout}
}

// Names returns every phase's name, in walk order.
func Names() []string {
	all := All()
	names := make([]string, len(all))
	for i, p := range all {
		names[i] = string(p)
	}
	return names
}

// Valid reports whether name is a phase.
func Valid(name string) bool {
	for _, p := range All() {
		if string(p) == name {
			return true
		}
	}
	return false
}
