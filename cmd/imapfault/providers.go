package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/imapfault/imapfault/providers"
)

// runProviders lists the knowledge base: the servers the tester names and
// the texts it recognises, each with its public source, so that a person
// can see why a diagnosis said "likely".
func runProviders(_ context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "providers", "[PRODUCT]")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	kb, err := providers.Default()
	if err != nil {
		errorf(e, "the knowledge base: %v", err)
		return exitFailure
	}
	switch fs.NArg() {
	case 0:
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PRODUCT\tNAME\tTEXTS\tFLAVOUR")
		for _, p := range kb.Products {
			flavour := ""
			if kb.Flavor(p.ID) != nil {
				flavour = "flavor = \"" + p.ID + "\""
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", p.ID, p.Name, len(kb.EntriesOf(p.ID)), flavour)
		}
		tw.Flush()
		return exitOK
	case 1:
		p := kb.Product(fs.Arg(0))
		if p == nil {
			var ids []string
			for _, x := range kb.Products {
				ids = append(ids, x.ID)
			}
			errorf(e, "no product %q in the knowledge base", fs.Arg(0))
			hintf(e, "known: %s", strings.Join(ids, ", "))
			return exitUsage
		}
		greeting := ""
		if p.Greeting != nil {
			greeting = p.Greeting.String()
		}
		fmt.Fprintf(e.stdout, "%s (%s)\n  recognised by: greeting %q, capabilities %v\n  example greeting: %s\n  source: %s\n",
			p.Name, p.ID, greeting, p.Capabilities, p.ExampleGreeting, p.Source)
		for _, en := range kb.EntriesOf(p.ID) {
			fmt.Fprintf(e.stdout, "\n%s -> %s\n  wire: %s\n  means: %s\n  advice: %s\n", en.ID, en.Code, en.Example, en.Meaning, en.Advice)
			if en.Help != "" {
				fmt.Fprintf(e.stdout, "  help: %s\n", en.Help)
			}
			fmt.Fprintf(e.stdout, "  source: %s\n", en.Source)
		}
		return exitOK
	}
	errorf(e, "unexpected arguments %q", fs.Args())
	hintf(e, "imapfault providers          lists the products the tester names")
	hintf(e, "imapfault providers gmail    shows one with the texts it recognises and their sources")
	return exitUsage
}
