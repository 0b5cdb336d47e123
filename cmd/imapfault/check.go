package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/status"
)

const checkSynopsis = `[flags] HOST[:PORT] | imap://HOST[:PORT] | imaps://HOST[:PORT]

Walks an IMAP server phase by phase (connect, TLS, greeting, CAPABILITY,
STARTTLS, login, LIST, SELECT, FETCH, IDLE, LOGOUT) and names what is wrong.
Port 993 implies --tls implicit; any other port (default 143) --tls starttls.
imaps:// is implicit TLS (default port 993), imap:// plain or STARTTLS
(default port 143); imap://alice@HOST is --user alice.
Without --user the walk stops after CAPABILITY/STARTTLS (a reachability probe).
The password comes from $IMAPFAULT_PASSWORD, --password-file or a prompt on a
terminal; an OAuth token from $IMAPFAULT_TOKEN or --token-file.
JSON durations are in milliseconds (fields ending in _ms).
Exit status: 0 ok, 1 warning, 2 failure, 3 unknown: a usage or internal
error, or the check was interrupted (diagnosis check.canceled), as the
monitoring-plugins convention has it.

Examples:
  IMAPFAULT_PASSWORD=secret imapfault check --user alice mail.example.com
  imapfault check --json mail.example.com:993
  imapfault check --nagios --user alice --password-file /etc/imap.pw mail.example.com
  imapfault check --user alice --html check.html --junit check.xml mail.example.com`

// checkFlags are the parsed flags of "imapfault check".
type checkFlags struct {
	tls, user, passwordFile, auth, tokenFile, mailbox string
	caFile, serverName                                string
	htmlFile, junitFile                               string
	timeout                                           time.Duration
	idleHold                                          time.Duration
	insecure, write, verbose, jsonOut, nagios         bool
	warning, critical                                 string
}

func runCheck(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "check", checkSynopsis)
	var f checkFlags
	fs.StringVar(&f.tls, "tls", "", "`MODE`: implicit, starttls or none (default from the port)")
	fs.StringVar(&f.user, "user", "", "log in as `NAME` (without it: probe only)")
	fs.StringVar(&f.passwordFile, "password-file", "", "read the password from `FILE` (first line)")
	fs.StringVar(&f.auth, "auth", "login", "`METHOD`: login, plain, xoauth2 or oauthbearer")
	fs.StringVar(&f.tokenFile, "token-file", "", "read the OAuth token from `FILE` (first line)")
	fs.StringVar(&f.mailbox, "mailbox", "INBOX", "select mailbox `NAME`")
	fs.DurationVar(&f.timeout, "timeout", client.DefaultStepTimeout, "deadline for each step")
	fs.DurationVar(&f.idleHold, "idle-hold", 0, "stay in IDLE this long before DONE, to see the connection survive (at most half of --timeout)")
	fs.StringVar(&f.caFile, "ca-file", "", "trust the CA certificates in PEM `FILE` instead of the system roots")
	fs.StringVar(&f.serverName, "server-name", "", "verify the certificate for `NAME` (default: the host)")
	fs.BoolVar(&f.insecure, "insecure", false, "continue past certificate problems (still reported)")
	fs.BoolVar(&f.write, "write", false, "also test a flag round-trip and APPEND-and-delete (changes the account briefly)")
	fs.BoolVar(&f.verbose, "v", false, "print the full transcript (secrets masked)")
	fs.BoolVar(&f.jsonOut, "json", false, "print the whole report as one JSON object")
	fs.BoolVar(&f.nagios, "nagios", false, "print one monitoring-plugins line with perfdata")
	fs.StringVar(&f.warning, "warning", "", "warn when a `KEY=RANGE` list is breached: total and step seconds, cert_days (e.g. total=5,auth=2,cert_days=30:)")
	fs.StringVar(&f.critical, "critical", "", "fail when a `KEY=RANGE` list is breached, as --warning")
	fs.StringVar(&f.htmlFile, "html", "", "also write the report as a self-contained HTML page to `FILE` (secrets masked)")
	fs.StringVar(&f.junitFile, "junit", "", "also write JUnit XML to `FILE`, one test case per step")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		errorf(e, "check needs exactly one target (%s), got %d arguments", targetForms, fs.NArg())
		hintf(e, "imapfault check --user alice mail.example.com")
		return exitUsage
	}
	if f.jsonOut && f.nagios {
		errorf(e, "--json and --nagios exclude each other")
		return exitUsage
	}
	var th [2]status.Thresholds
	for i, spec := range []struct{ flag, value string }{{"--warning", f.warning}, {"--critical", f.critical}} {
		if spec.value == "" {
			continue
		}
		pairs, err := status.SplitPairs(spec.value)
		if err == nil {
			th[i], err = status.ParseThresholds(pairs)
		}
		if err != nil {
			errorf(e, "%s: %v", spec.flag, err)
			hintf(e, "monitoring-plugins ranges: total=5 (over 5s), cert_days=30: (under 30 days), @1:2 (inside)")
			return exitUsage
		}
	}
	opts, err := checkOptions(e, &f, fs.Arg(0))
	if err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	rep, err := client.Check(ctx, opts)
	if err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	j := judged{warning: th[0], critical: th[1]}
	j.state, j.breaches = status.Judge(rep, th[0], th[1], time.Now())
	switch {
	case f.jsonOut:
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			errorf(e, "writing JSON: %v", err)
			return exitUsage
		}
	case f.nagios:
		fmt.Fprintln(e.stdout, nagiosLine(rep, j))
	default:
		if f.verbose {
			printTranscript(e.stdout, rep)
		}
		printSummary(e.stdout, rep)
		for _, b := range j.breaches {
			fmt.Fprintf(e.stdout, "threshold (%s): %s\n", j.state, b)
		}
	}
	if err := writeCheckFiles(&f, rep); err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	return int(j.state)
}

// judged is a report's state under the --warning and --critical
// thresholds; the state is also the exit code (0 ok, 1 warning, 2
// critical, 3 unknown).
type judged struct {
	state             status.State
	breaches          []string
	warning, critical status.Thresholds
}

// checkOptions turns the flags and the target into client options.
func checkOptions(e *env, f *checkFlags, arg string) (client.Options, error) {
	opts := client.Options{
		TLS:         client.TLSMode(f.tls),
		User:        f.user,
		Auth:        strings.ToLower(f.auth),
		Mailbox:     f.mailbox,
		StepTimeout: f.timeout,
		IdleHold:    f.idleHold,
		ServerName:  f.serverName,
		Insecure:    f.insecure,
		Write:       f.write,
	}
	switch opts.TLS {
	case "", client.TLSImplicit, client.TLSStartTLS, client.TLSNone:
	default:
		return opts, fmt.Errorf("--tls %q: want implicit, starttls or none", f.tls)
	}
	if f.idleHold < 0 || f.idleHold > f.timeout/2 {
		return opts, fmt.Errorf("--idle-hold %v: want 0 up to half of --timeout (%v)", f.idleHold, f.timeout/2)
	}
	if f.timeout <= 0 {
		return opts, fmt.Errorf("--timeout %v: want a positive duration", f.timeout)
	}
	t, err := parseTarget(arg, opts.TLS)
	if err != nil {
		return opts, err
	}
	opts.Addr = net.JoinHostPort(t.host, t.port)
	if opts.TLS == "" {
		opts.TLS = t.tls
	}
	if opts.TLS == "" {
		opts.TLS = client.DefaultTLSMode(t.port)
	}
	switch {
	case t.user != "" && opts.User == "":
		opts.User = t.user
	case t.user != "" && opts.User != t.user:
		return opts, fmt.Errorf("target %q names user %q, but --user %q was given", arg, t.user, opts.User)
	}
	if f.caFile != "" {
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return opts, fmt.Errorf("--ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return opts, fmt.Errorf("--ca-file %s: no PEM certificates in it", f.caFile)
		}
		opts.RootCAs = pool
	}
	if opts.User == "" {
		return opts, nil
	}
	switch opts.Auth {
	case client.AuthLogin, client.AuthPlain:
		opts.Password, err = secret(e, "IMAPFAULT_PASSWORD", f.passwordFile, "--password-file", "Password for "+opts.User+": ")
	case client.AuthXOAuth2, client.AuthOAuthBearer:
		opts.Token, err = secret(e, "IMAPFAULT_TOKEN", f.tokenFile, "--token-file", "OAuth token for "+opts.User+": ")
	default:
		return opts, fmt.Errorf("--auth %q: want login, plain, xoauth2 or oauthbearer", f.auth)
	}
	return opts, err
}

// secret reads a secret from a file, the environment, or a terminal
// prompt, in that order; never from the command line, where other users
// could read it in the process list.
func secret(e *env, envName, file, flagName, prompt string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s: %w", flagName, err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			// Sending an empty secret would end in auth.failed, blaming
			// the server for a file that is empty or starts with a blank line.
			return "", fmt.Errorf("%s %s: the first line is empty: put the secret on it", flagName, file)
		}
		return line, nil
	}
	if v := e.getenv(envName); v != "" {
		return v, nil
	}
	if f, ok := e.stdin.(*os.File); ok && isTerminal(f) {
		return promptSecret(e, f, prompt)
	}
	return "", fmt.Errorf("no secret: set %s, use %s, or run on a terminal to be prompted", envName, flagName)
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// promptSecret reads a line from the terminal with echo turned off.
func promptSecret(e *env, tty *os.File, prompt string) (string, error) {
	fmt.Fprint(e.stderr, prompt)
	secret, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("reading the prompt (%w): set the secret in the environment or a file instead", err)
	}
	return string(secret), nil
}

func printTranscript(w io.Writer, rep *client.Report) {
	fmt.Fprintln(w, "Transcript (secrets masked):")
	for _, ev := range rep.Transcript {
		fmt.Fprintf(w, "%8.3fs %d %s %s\n", ev.Elapsed.Seconds(), ev.Session, ev.Dir, ev.Text)
	}
	fmt.Fprintln(w)
}

func printSummary(w io.Writer, rep *client.Report) {
	who := "probe only"
	if rep.User != "" {
		who = "user " + rep.User
	}
	mode := string(rep.TLSMode)
	if rep.Insecure {
		mode += ", certificate not enforced (--insecure)"
	}
	fmt.Fprintf(w, "imapfault check %s (TLS %s, %s)\n", rep.Target, mode, who)
	printServer(w, rep.Server)
	for _, st := range rep.Steps {
		status := "ok"
		switch {
		case !st.OK:
			status = "FAIL"
		case st.Warning:
			status = "warn"
		}
		fmt.Fprintf(w, "  %-10s %9s  %-4s  %s\n", st.Phase, fmtDuration(st.Duration), status, st.Detail)
	}
	printDiagnosis(w, "diagnosis", rep.Diagnosis)
	for _, wd := range rep.Warnings {
		printDiagnosis(w, "warning", wd)
	}
}

// printServer says what the server is, with the clues, and its ID answer.
func printServer(w io.Writer, s client.ServerInfo) {
	if s.Product != "" {
		fmt.Fprintf(w, "server: %s [%s] (from %s)\n", s.Name, s.Product, strings.Join(s.Evidence, ", "))
	}
	if len(s.ID) > 0 {
		fields := make([]string, 0, len(s.ID))
		for _, f := range s.ID {
			fields = append(fields, fmt.Sprintf("%s=%q", f.Name, f.Value))
		}
		fmt.Fprintf(w, "server ID: %s\n", strings.Join(fields, " "))
	}
}

func printDiagnosis(w io.Writer, kind string, d client.Diagnosis) {
	likely := ""
	if d.Likely {
		likely = " (likely, recognised from the server's text)"
	}
	fmt.Fprintf(w, "%s: %s%s (phase %s)\n  evidence: %s\n", kind, d.Code, likely, d.Phase, d.Evidence)
	if r := d.Recognised; r != nil {
		fmt.Fprintf(w, "  recognised: %s (%s; source %s)\n", r.Entry, r.Provider, r.Source)
		if r.WireCode != "" {
			fmt.Fprintf(w, "  wire alone: %s\n", r.WireCode)
		}
	}
	fmt.Fprintf(w, "  advice:   %s\n", d.Advice)
}

func fmtDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// nagiosLine renders one monitoring-plugins status line with perfdata:
// seconds per step, and the certificate's days left when TLS was used.
func nagiosLine(rep *client.Report, j judged) string {
	label := strings.ToUpper(j.state.String())
	d := rep.Diagnosis
	text := d.Evidence
	switch {
	case len(j.breaches) > 0:
		text = "threshold: " + strings.Join(j.breaches, "; ")
	case j.state == status.Warning:
		d = rep.Warnings[0]
		text = d.Code + ": " + d.Evidence
	case j.state == status.Critical:
		text = d.Code + " in " + d.Phase + ": " + d.Evidence
	case j.state == status.Unknown:
		text = d.Code + ": " + d.Evidence
	}
	text = strings.NewReplacer("|", "/", "\n", " ").Replace(text)
	var perf []string
	seen := map[string]int{}
	for _, st := range rep.Steps {
		seen[st.Phase]++
		name := st.Phase
		if n := seen[st.Phase]; n > 1 {
			name = fmt.Sprintf("%s_%d", st.Phase, n)
		}
		perf = append(perf, fmt.Sprintf("%s=%.3fs;%s;%s;0", name, st.Duration.Seconds(),
			j.warning.Steps[st.Phase].Spec, j.critical.Steps[st.Phase].Spec))
	}
	perf = append(perf, fmt.Sprintf("total=%.3fs;%s;%s;0", rep.Duration.Seconds(), j.warning.Total.Spec, j.critical.Total.Spec))
	if rep.TLS != nil {
		warn, crit := j.warning.CertDays.Spec, j.critical.CertDays.Spec
		if warn == "" && crit == "" {
			warn, crit = "14", "0" // the tester's own tls.cert_expiring warning and expiry
		}
		perf = append(perf, fmt.Sprintf("cert_days=%d;%s;%s", rep.TLS.DaysLeft(time.Now()), warn, crit))
	}
	return fmt.Sprintf("IMAP %s - %s | %s", label, text, strings.Join(perf, " "))
}
