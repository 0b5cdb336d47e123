package client

import (
	"fmt"
	"slices"
	"strings"

	"github.com/imapfault/imapfault/client/phase"
	"github.com/imapfault/imapfault/providers"
)

// sharpens lists, for a code a response code decided, the codes a
// recognised provider text may replace it with: causes the response code
// names too broadly or wrongly. A text that says anything else leaves the
// response code's diagnosis standing (response codes are the first
// evidence); a diagnosis that only the status and phase decided (a NO
// without a telling code, a BAD, a BYE) takes the text's code.
var sharpens = map[string][]string{
	CodeAuthFailed: {CodeAuthAppPasswordRequired, CodeAuthWebLoginRequired, CodeAuthBasicAuthDisabled,
		CodeAuthTooManyConnections, CodeServerThrottled, CodeAuthContactAdmin},
	CodeAuthUnavailable:        {CodeAuthTooManyConnections, CodeServerThrottled},
	CodeAuthTooManyConnections: {CodeServerThrottled},
	CodeServerLimit:            {CodeServerThrottled, CodeAuthTooManyConnections},
	CodeServerOverquota:        {CodeServerThrottled},
	CodeAuthOAuthTokenInvalid:  {CodeAuthNotConnected},
}

// knowledge is the providers knowledge base. Its embedded file is
// checked by the providers tests; should it ever fail to load, the
// tester still works, naming nothing and recognising no text.
func knowledge() *providers.Base {
	b, err := providers.Default()
	if err != nil {
		return &providers.Base{}
	}
	return b
}

// identify names the server's product from the greeting and every
// capability list seen so far.
func (w *walk) identify() {
	if w.s == nil {
		return
	}
	w.capLists = append(w.capLists, w.s.capList)
	id := knowledge().Identify(w.rep.Greeting, w.capLists...)
	if id.Product == nil || id.Product.ID == w.rep.Server.Product {
		return
	}
	w.rep.Server.Product, w.rep.Server.Name, w.rep.Server.Evidence = id.Product.ID, id.Product.Name, id.Evidence
	w.s.info("server recognised as %s (%s)", id.Product.Name, strings.Join(id.Evidence, ", "))
}

// identifyByID names the server from its ID answer when the greeting and
// capabilities did not.
func (w *walk) identifyByID() {
	if w.rep.Server.Product != "" {
		return
	}
	for _, f := range w.rep.Server.ID {
		if !strings.EqualFold(f.Name, "name") {
			continue
		}
		if id := knowledge().IdentifyByID(f.Value); id.Product != nil {
			w.rep.Server.Product, w.rep.Server.Name, w.rep.Server.Evidence = id.Product.ID, id.Product.Name, id.Evidence
			w.s.info("server recognised as %s (%s)", id.Product.Name, strings.Join(id.Evidence, ", "))
		}
		return
	}
}

// refine sharpens a failing step's diagnosis with a provider text the
// knowledge base recognises: the line that decided the diagnosis first,
// then the step's other untagged NO and BAD lines (Gmail's WEBALERT
// precedes its tagged NO). What a response code decided stands unless
// the text names a narrower cause (sharpens); the change is marked
// Likely, with the entry's source.
func (w *walk) refine(ph string, d *Diagnosis) {
	if w.s == nil || d.Code == CodeCheckCanceled {
		return
	}
	st := w.s.statuses
	decider := -1
	for i := len(st) - 1; i >= 0; i-- {
		if strings.HasPrefix(d.Evidence, st[i].Raw) {
			decider = i
			break
		}
	}
	if decider < 0 {
		return
	}
	cands := []*response{st[decider]}
	for i := len(st) - 1; i >= 0; i-- {
		if i != decider && st[i].Tag == "*" && (st[i].Status == "NO" || st[i].Status == "BAD") {
			cands = append(cands, st[i])
		}
	}
	var (
		e    *providers.Entry
		line string
	)
	for _, c := range cands {
		if found := knowledge().Lookup(c.Raw, w.rep.Server.Product); len(found) > 0 {
			e, line = found[0], c.Raw
			break
		}
	}
	if e == nil {
		return
	}
	rec := &Recognition{Entry: e.ID, Provider: e.Provider, Line: line, Meaning: e.Meaning, Help: e.Help, Source: e.Source}
	r := st[decider]
	byStatus := statusDiag(ph, &response{Tag: r.Tag, Status: r.Status}).Code
	if r.Status == "BYE" && byStatus == CodeProtocolBad {
		byStatus = CodeConnBye
	}
	switch {
	case e.Code == d.Code:
	case d.Code == byStatus || slices.Contains(sharpens[d.Code], e.Code):
		rec.WireCode = d.Code
		d.Code, d.Likely = e.Code, true
	default:
		rec.Overruled = true
	}
	d.Recognised = rec
	d.Advice = recognisedAdvice(d, e)
	if d.Code == CodeMailboxUnsafeLogin && slices.ContainsFunc(w.rep.Steps, func(s Step) bool { return s.Phase == string(phase.ID) }) {
		// The advice is to send ID; the tester did, so say what is left.
		d.Advice += " The tester sent ID before SELECT (see the id step) and was still refused: the server may want a client name it knows, or the account is restricted."
	}
	w.s.info("recognised %s text %q (%s): %s", e.Provider, clip(line), e.ID, e.Source)
}

// recognisedAdvice is the entry's meaning and advice with the provider's
// help page, marked "likely" when the text changed the code; when the wire
// evidence overruled the text, it is the code's own advice, the text noted.
func recognisedAdvice(d *Diagnosis, e *providers.Entry) string {
	var b strings.Builder
	if d.Recognised.Overruled {
		fmt.Fprintf(&b, "The wire evidence (response code or mechanism) decides %s, though the text reads like %s's %q (%s): ", d.Code, e.Provider, e.Code, e.Meaning)
		b.WriteString(advice[d.Code])
		return b.String()
	}
	if d.Likely {
		fmt.Fprintf(&b, "Likely, from the server's text (%s, see %s): ", e.ID, e.Source)
	}
	b.WriteString(e.Meaning + " " + e.Advice)
	if e.Help != "" {
		b.WriteString(" Help: " + e.Help)
	}
	return b.String()
}

// noteRecognisedOK warns about provider texts on successful responses,
// such as Gmail's "OK Success [THROTTLED]": the step passed, but the
// server said something a person should know.
func (w *walk) noteRecognisedOK(ph string) {
	if w.s == nil {
		return
	}
	for _, r := range w.s.statuses {
		if r.Status != "OK" {
			continue
		}
		for _, e := range knowledge().Lookup(r.Raw, w.rep.Server.Product) {
			d := diag(e.Code, ph, r.Raw)
			d.Likely = true
			d.Recognised = &Recognition{Entry: e.ID, Provider: e.Provider, Line: r.Raw, Meaning: e.Meaning, Help: e.Help, Source: e.Source}
			d.Advice = recognisedAdvice(&d, e)
			w.warn(d)
		}
	}
}
