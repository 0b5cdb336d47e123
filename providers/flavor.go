package providers

import (
	"fmt"
	"slices"
	"strings"
)

// Flavor is how the fake server plays a product: what it says of itself
// and how its folders look. Errors a flavoured scenario declares take
// their exact texts from the product's Entries.
type Flavor struct {
	ID       string // a Product's ID
	Greeting string // the greeting's text after "* OK"
	// GreetingCapabilities is false for a product whose greeting carries
	// no [CAPABILITY ...] code, so that clients must ask, as they do there.
	GreetingCapabilities   bool
	Capabilities           []string
	CapabilitiesAfterLogin []string
	Delimiter              string
	// IDResponse is the answer to ID as field and value pairs; nil when
	// the flavour does not advertise ID.
	IDResponse []string
	Folders    []Folder
	Source     string
	IDSource   string
}

// Folder is a mailbox a flavour adds to every user.
type Folder struct {
	Name       string `toml:"name"`
	SpecialUse string `toml:"special_use"`
	Noselect   bool   `toml:"noselect"` // a container that cannot be selected, such as [Gmail]
}

type flavorDef struct {
	ID                     string   `toml:"id"`
	Greeting               string   `toml:"greeting"`
	GreetingCapabilities   *bool    `toml:"greeting_capabilities"`
	Capabilities           []string `toml:"capabilities"`
	CapabilitiesAfterLogin []string `toml:"capabilities_after_login"`
	Delimiter              string   `toml:"delimiter"`
	IDResponse             []string `toml:"id_response"`
	Folders                []Folder `toml:"folders"`
	Source                 string   `toml:"source"`
	IDSource               string   `toml:"id_source"`
}

// Flavor returns the flavour with this ID, or nil.
func (b *Base) Flavor(id string) *Flavor {
	for i := range b.Flavors {
		if b.Flavors[i].ID == id {
			return &b.Flavors[i]
		}
	}
	return nil
}

// FlavorIDs lists the flavours, for error messages and listings.
func (b *Base) FlavorIDs() []string {
	out := make([]string, 0, len(b.Flavors))
	for _, f := range b.Flavors {
		out = append(out, f.ID)
	}
	return out
}

// EntriesOf returns a provider's entries, in file order.
func (b *Base) EntriesOf(provider string) []*Entry {
	var out []*Entry
	for i := range b.Entries {
		if b.Entries[i].Provider == provider {
			out = append(out, &b.Entries[i])
		}
	}
	return out
}

// Entry returns the entry with this ID, or nil.
func (b *Base) Entry(id string) *Entry {
	for i := range b.Entries {
		if b.Entries[i].ID == id {
			return &b.Entries[i]
		}
	}
	return nil
}

// checkFlavor reports what a flavour definition cannot mean.
func checkFlavor(f flavorDef, products map[string]bool) error {
	hasID := slices.Contains(f.Capabilities, "ID") || slices.Contains(f.CapabilitiesAfterLogin, "ID")
	switch {
	case !products[f.ID]:
		return fmt.Errorf("flavor %q is not a product of this file", f.ID)
	case f.Greeting == "" || strings.ContainsAny(f.Greeting, "\r\n"):
		return fmt.Errorf("greeting must be one non-empty line")
	case len(f.Capabilities) == 0 || len(f.CapabilitiesAfterLogin) == 0:
		return fmt.Errorf("capabilities and capabilities_after_login are both required")
	case len(f.Delimiter) != 1:
		return fmt.Errorf("delimiter %q must be one character", f.Delimiter)
	case len(f.IDResponse)%2 != 0:
		return fmt.Errorf("id_response must be field and value pairs")
	case hasID && len(f.IDResponse) == 0:
		return fmt.Errorf("ID is advertised but no id answer is recorded: give id_response, or leave ID out")
	case !hasID && len(f.IDResponse) > 0:
		return fmt.Errorf("id_response is given but ID is not advertised")
	case len(f.IDResponse) > 0 && checkURL(f.IDSource) != nil:
		return fmt.Errorf("id_source: %v", checkURL(f.IDSource))
	case checkURL(f.Source) != nil:
		return fmt.Errorf("source: %v", checkURL(f.Source))
	}
	for _, c := range append(slices.Clone(f.Capabilities), f.CapabilitiesAfterLogin...) {
		if c == "" || strings.ContainsAny(c, " []()\"\r\n") {
			return fmt.Errorf("capability %q is not an atom", c)
		}
	}
	for _, v := range f.IDResponse {
		if strings.ContainsAny(v, "\"\\\r\n") {
			return fmt.Errorf("id value %q needs quoting the fake server does not do", v)
		}
	}
	for _, fo := range f.Folders {
		if fo.Name == "" || strings.ContainsAny(fo.Name, "\"\\\r\n%*") {
			return fmt.Errorf("folder %q is not a plain mailbox name", fo.Name)
		}
	}
	return nil
}
