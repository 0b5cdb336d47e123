// Package report renders what the tester found for people: one check as a
// self-contained HTML page (CheckHTML) that a support engineer can attach to
// a ticket.
//
// Every page is one file with its style and its few lines of script inline,
// and charts drawn here as SVG: it opens from disk with no network, and its
// Content-Security-Policy forbids every request, so that a page can never
// reach out even if a server's text tried to make it. The pages are written
// for a screen reader and a printer as much as for a screen: real headings,
// tables with header cells, a text alternative for every chart.
//
// The package knows the tester only through client.Report; it never
// imports server or faults.
package report
