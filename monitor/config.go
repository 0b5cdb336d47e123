package monitor

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/internal/tomlpos"
	"github.com/imapfault/imapfault/status"
)

// Config is a monitor configuration file.
type Config struct {
	Monitor Settings `toml:"monitor"`
	Targets []Target `toml:"targets"`
	Alerts  []Sink   `toml:"alerts"`

	// File is the path the config was read from; relative paths in it
	// resolve against its folder.
	File string `toml:"-"`
}

// Settings are the monitor-wide settings, the [monitor] table.
type Settings struct {
	Listen      string        `toml:"listen"`      // address of /metrics and /probe; --listen overrides
	History     string        `toml:"history"`     // database path; --history overrides
	Retention   time.Duration `toml:"retention"`   // how long results are kept; default 400 days
	Concurrency int           `toml:"concurrency"` // checks at once; default 32
	// Jitter spreads each target's checks by up to this fraction of its
	// interval, so that targets do not fire together; default 0.1.
	Jitter         *float64 `toml:"jitter"`
	KeepTranscript bool     `toml:"keep_transcript"` // store each check's redacted transcript in the history
	LogFormat      string   `toml:"log_format"`      // text (default) or json
}

// Target is one server to check, a [[targets]] table. Its name is also
// its module name for /probe.
type Target struct {
	Name       string        `toml:"name"`
	Address    string        `toml:"address"` // host:port
	TLS        string        `toml:"tls"`     // none, starttls, implicit; default from the port
	CAFile     string        `toml:"ca_file"` // PEM, relative to the config file
	ServerName string        `toml:"server_name"`
	Insecure   bool          `toml:"insecure"`
	User       string        `toml:"user"` // empty: probe only
	Auth       string        `toml:"auth"` // login (default), plain, xoauth2, oauthbearer
	Mailbox    string        `toml:"mailbox"`
	Write      bool          `toml:"write"`
	Interval   time.Duration `toml:"interval"` // default 60s
	Timeout    time.Duration `toml:"timeout"`  // per step; default 10s
	IdleHold   time.Duration `toml:"idle_hold"`
	// ProbeHosts limits the addresses /probe may check with this target's
	// settings and credentials (?target=HOST:PORT&module=NAME): path.Match
	// patterns on HOST:PORT. Empty: any address.
	ProbeHosts []string `toml:"probe_hosts"`

	// Where the secret comes from: exactly one when a user is set.
	PasswordEnv  string   `toml:"password_env"`
	PasswordFile string   `toml:"password_file"`
	TokenEnv     string   `toml:"token_env"`
	TokenFile    string   `toml:"token_file"`
	TokenCommand []string `toml:"token_command"` // prints an access token on stdout
	OAuth2       *OAuth2  `toml:"oauth2"`

	// Failures is how many failed checks in a row make the target
	// failing (default 2); Successes how many passing ones bring it back
	// (default 1).
	Failures  int `toml:"failures"`
	Successes int `toml:"successes"`

	// Warning and Critical map "total", "cert_days" or a step name to a
	// monitoring-plugins range (seconds, or days for cert_days).
	Warning  map[string]string `toml:"warning"`
	Critical map[string]string `toml:"critical"`

	// Filled in by Parse.
	rootCAs           *x509.CertPool
	warning, critical status.Thresholds
	passwordFile      string // resolved against the config's folder
	tokenFile         string
}

// OAuth2 gets access tokens from a token endpoint: with a refresh token
// (Gmail and most providers) or with client credentials (Microsoft 365).
type OAuth2 struct {
	Grant            string   `toml:"grant"` // refresh_token (default) or client_credentials
	TokenURL         string   `toml:"token_url"`
	ClientID         string   `toml:"client_id"`
	ClientSecretEnv  string   `toml:"client_secret_env"`
	ClientSecretFile string   `toml:"client_secret_file"`
	RefreshTokenEnv  string   `toml:"refresh_token_env"`
	RefreshTokenFile string   `toml:"refresh_token_file"`
	Scopes           []string `toml:"scopes"`
}

// Sink is where alerts go, an [[alerts]] table.
type Sink struct {
	Type    SinkType      `toml:"type"`
	URL     string        `toml:"url"`     // webhook, alertmanager
	URLEnv  string        `toml:"url_env"` // the URL from the environment, when it carries a token
	Command []string      `toml:"command"` // exec: the alert's JSON on stdin
	Timeout time.Duration `toml:"timeout"` // per delivery attempt; default 10s
	Retries *int          `toml:"retries"` // attempts after the first; default 5
}

// SinkType names a kind of alert sink.
type SinkType string

// The alert sinks.
const (
	SinkWebhook      SinkType = "webhook"      // generic JSON: one Alert per POST
	SinkAlertmanager SinkType = "alertmanager" // Alertmanager's webhook payload, version 4
	SinkExec         SinkType = "exec"         // a command, with the alert's JSON on stdin
)

var sinkTypes = []SinkType{SinkAlertmanager, SinkExec, SinkWebhook}

// Defaults for what a config leaves out.
const (
	DefaultInterval    = 60 * time.Second
	DefaultFailures    = 2
	DefaultSuccesses   = 1
	DefaultConcurrency = 32
	DefaultJitter      = 0.1
	DefaultRetention   = 400 * 24 * time.Hour
	DefaultSinkTimeout = 10 * time.Second
	DefaultSinkRetries = 5
)

// IsConfig reports whether a TOML file looks like a monitor config (it
// has [[targets]] or [monitor]) rather than a scenario, for lint.
func IsConfig(data []byte) bool {
	// Decoding the whole file only to look at two keys doubled lint's
	// time on a 5 MB scenario (issue 19); a line scan rules out nearly
	// every scenario first, and the decode confirms the rest.
	return mentionsConfigKey(data) && hasConfigKey(data)
}

// mentionsConfigKey reports whether a line of data could make monitor or
// targets a top-level key: a table header naming either first ([monitor],
// [[targets]], [ "monitor".x ]), or, before any header, a key or dotted
// key starting with either. It may say yes for a line inside a multi-line
// string, never no for a file that has one (FuzzIsConfig).
func mentionsConfigKey(data []byte) bool {
	header := false
	for rest := data; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		line = bytes.TrimLeft(line, " \t")
		switch {
		case len(line) > 0 && line[0] == '[':
			header = true
			line = bytes.TrimLeft(line, "[ \t")
		case header:
			continue
		}
		name := line
		if i := bytes.IndexAny(name, "=.]"); i >= 0 {
			name = name[:i]
		}
		name = bytes.Trim(name, " \t\"'")
		if string(name) == "monitor" || string(name) == "targets" {
			return true
		}
	}
	return false
}

// hasConfigKey decodes data and reports whether it has monitor or
// targets at the top level.
func hasConfigKey(data []byte) bool {
	var probe map[string]toml.Primitive
	if _, err := toml.Decode(string(data), &probe); err != nil {
		return false
	}
	_, targets := probe["targets"]
	_, mon := probe["monitor"]
	return targets || mon
}

// LoadConfig reads and validates a config file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data)
}

// ParseConfig decodes and validates a config: unknown keys, bad values
// and missing files are errors at file:line (a tomlpos.ErrorList), all of
// them at once. Environment variables are not read here (see
// Config.CheckSecrets), so that lint works where the secrets are not.
func ParseConfig(file string, data []byte) (*Config, error) {
	var c Config
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		return nil, tomlpos.ErrorList{tomlpos.DecodeError(file, err)}
	}
	col := &tomlpos.Collector{File: file, Pos: tomlpos.Locate(string(data), md)}
	taken := map[string]bool{}
	for _, key := range md.Undecoded() {
		path := col.Indexed(key, taken)
		col.Add(path, "unknown key %q%s", key[len(key)-1], allowedHint(key))
	}
	c.File = file
	c.validate(col, filepath.Dir(file))
	if err := col.Err(); err != nil {
		return nil, err
	}
	return &c, nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (c *Config) validate(col *tomlpos.Collector, dir string) {
	m := &c.Monitor
	if m.Listen != "" {
		if _, _, err := net.SplitHostPort(m.Listen); err != nil {
			col.Add("monitor.listen", "%q is not HOST:PORT", m.Listen)
		}
	}
	if m.History != "" && !filepath.IsAbs(m.History) {
		m.History = filepath.Join(dir, m.History)
	}
	switch {
	case m.Retention < 0:
		col.Add("monitor.retention", "negative duration %v", m.Retention)
	case m.Retention == 0:
		m.Retention = DefaultRetention
	}
	switch {
	case m.Concurrency < 0:
		col.Add("monitor.concurrency", "%d: want at least 1", m.Concurrency)
	case m.Concurrency == 0:
		m.Concurrency = DefaultConcurrency
	}
	if m.Jitter == nil {
		j := DefaultJitter
		m.Jitter = &j
	} else if *m.Jitter < 0 || *m.Jitter > 0.5 {
		col.Add("monitor.jitter", "%v: want a fraction of the interval from 0 to 0.5", *m.Jitter)
	}
	switch m.LogFormat {
	case "":
		m.LogFormat = "text"
	case "text", "json":
	default:
		col.Add("monitor.log_format", "%q (allowed: text, json)", m.LogFormat)
	}
	if len(c.Targets) == 0 {
		col.Add("", "no [[targets]]: a monitor config needs at least one")
	}
	seen := map[string]int{}
	for i := range c.Targets {
		path := "targets[" + strconv.Itoa(i) + "]"
		t := &c.Targets[i]
		if prev, dup := seen[t.Name]; dup && t.Name != "" {
			col.Add(path+".name", "%q is also the name of targets[%d]: names must be unique", t.Name, prev)
		}
		seen[t.Name] = i
		t.validate(col, path, dir)
	}
	for i := range c.Alerts {
		c.Alerts[i].validate(col, "alerts["+strconv.Itoa(i)+"]")
	}
}

func (t *Target) validate(col *tomlpos.Collector, path, dir string) {
	at := func(key string) string { return path + "." + key }
	if !nameRE.MatchString(t.Name) {
		col.Add(at("name"), "%q: want letters, digits, '.', '_' or '-' (it names the target in metrics and URLs)", t.Name)
	}
	host, port, err := net.SplitHostPort(t.Address)
	if err != nil || host == "" {
		col.Add(at("address"), "%q: want HOST:PORT, such as mail.example.com:993", t.Address)
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		col.Add(at("address"), "%q: bad port", t.Address)
	}
	switch client.TLSMode(t.TLS) {
	case "":
		t.TLS = string(client.DefaultTLSMode(port))
	case client.TLSNone, client.TLSStartTLS, client.TLSImplicit:
	default:
		col.Add(at("tls"), "%q (allowed: none, starttls, implicit)", t.TLS)
	}
	if t.CAFile != "" {
		p := t.CAFile
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		pem, err := os.ReadFile(p)
		switch {
		case err != nil:
			col.Add(at("ca_file"), "%v", err)
		default:
			t.rootCAs = x509.NewCertPool()
			if !t.rootCAs.AppendCertsFromPEM(pem) {
				col.Add(at("ca_file"), "%s: no PEM certificates in it", p)
			}
		}
	}
	t.Auth = strings.ToLower(t.Auth)
	switch t.Auth {
	case "":
		t.Auth = client.AuthLogin
	case client.AuthLogin, client.AuthPlain, client.AuthXOAuth2, client.AuthOAuthBearer:
	default:
		col.Add(at("auth"), "%q (allowed: login, plain, xoauth2, oauthbearer)", t.Auth)
	}
	if strings.ContainsAny(t.User, "\r\n\x00") {
		col.Add(at("user"), "contains CR, LF or NUL")
	}
	if strings.ContainsAny(t.Mailbox, "\r\n\x00") {
		col.Add(at("mailbox"), "contains CR, LF or NUL")
	}
	durations := []struct {
		key string
		v   *time.Duration
		def time.Duration
	}{{"interval", &t.Interval, DefaultInterval}, {"timeout", &t.Timeout, client.DefaultStepTimeout}}
	for _, d := range durations {
		switch {
		case *d.v < 0:
			col.Add(at(d.key), "negative duration %v", *d.v)
		case *d.v == 0:
			*d.v = d.def
		}
	}
	if t.IdleHold < 0 || t.IdleHold > t.Timeout/2 {
		col.Add(at("idle_hold"), "%v: want 0 up to half the step timeout (%v)", t.IdleHold, t.Timeout/2)
	}
	for _, n := range []struct {
		key string
		v   *int
		def int
	}{{"failures", &t.Failures, DefaultFailures}, {"successes", &t.Successes, DefaultSuccesses}} {
		switch {
		case *n.v < 0:
			col.Add(at(n.key), "%d: want at least 1", *n.v)
		case *n.v == 0:
			*n.v = n.def
		}
	}
	for j, p := range t.ProbeHosts {
		if !validPattern(p) {
			col.Add(fmt.Sprintf("%s[%d]", at("probe_hosts"), j), "%q: bad pattern", p)
		}
	}
	var err2 error
	if t.warning, err2 = status.ParseThresholds(t.Warning); err2 != nil {
		col.Add(at("warning"), "%v", err2)
	}
	if t.critical, err2 = status.ParseThresholds(t.Critical); err2 != nil {
		col.Add(at("critical"), "%v", err2)
	}
	t.validateSecret(col, path, dir)
}

// validateSecret checks that a target that logs in names exactly one
// source for its secret, and the right kind for its mechanism.
func (t *Target) validateSecret(col *tomlpos.Collector, path, dir string) {
	at := func(key string) string { return path + "." + key }
	resolve := func(p string) string {
		if p != "" && !filepath.IsAbs(p) {
			return filepath.Join(dir, p)
		}
		return p
	}
	t.passwordFile, t.tokenFile = resolve(t.PasswordFile), resolve(t.TokenFile)
	var given []string
	for _, s := range []struct {
		key string
		set bool
	}{
		{"password_env", t.PasswordEnv != ""}, {"password_file", t.PasswordFile != ""},
		{"token_env", t.TokenEnv != ""}, {"token_file", t.TokenFile != ""},
		{"token_command", len(t.TokenCommand) > 0}, {"oauth2", t.OAuth2 != nil},
	} {
		if s.set {
			given = append(given, s.key)
		}
	}
	token := t.Auth == client.AuthXOAuth2 || t.Auth == client.AuthOAuthBearer
	switch {
	case t.User == "" && len(given) > 0:
		col.Add(at(given[0]), "a secret without a user: set user, or drop %s", given[0])
	case t.User == "":
	case len(given) == 0 && token:
		col.Add(path, "auth %s needs a token: set token_env, token_file, token_command or [targets.oauth2]", t.Auth)
	case len(given) == 0:
		col.Add(path, "user %q needs a password: set password_env or password_file (never the password itself)", t.User)
	case len(given) > 1:
		col.Add(at(given[1]), "%s and %s both give the secret: keep one", given[0], given[1])
	case token && strings.HasPrefix(given[0], "password"):
		col.Add(at(given[0]), "auth %s takes a token, not a password: use token_env, token_file, token_command or oauth2", t.Auth)
	case !token && !strings.HasPrefix(given[0], "password"):
		col.Add(at(given[0]), "auth %s takes a password: set auth = \"xoauth2\" or \"oauthbearer\" to use a token", t.Auth)
	}
	if o := t.OAuth2; o != nil {
		o.validate(col, at("oauth2"), resolve)
	}
}

func (o *OAuth2) validate(col *tomlpos.Collector, path string, resolve func(string) string) {
	at := func(key string) string { return path + "." + key }
	switch o.Grant {
	case "":
		o.Grant = GrantRefreshToken
	case GrantRefreshToken, GrantClientCredentials:
	default:
		col.Add(at("grant"), "%q (allowed: %s, %s)", o.Grant, GrantRefreshToken, GrantClientCredentials)
	}
	if u, err := parseHTTPURL(o.TokenURL); err != nil {
		col.Add(at("token_url"), "%v", err)
	} else if u.User != nil || u.RawQuery != "" {
		col.Add(at("token_url"), "must not carry credentials or a query: secrets stay out of URLs")
	}
	if o.ClientID == "" {
		col.Add(at("client_id"), "missing: the OAuth client's id")
	}
	if o.ClientSecretEnv != "" && o.ClientSecretFile != "" {
		col.Add(at("client_secret_file"), "client_secret_env and client_secret_file both give the secret: keep one")
	}
	if o.Grant == GrantClientCredentials && o.ClientSecretEnv == "" && o.ClientSecretFile == "" {
		col.Add(path, "grant client_credentials needs client_secret_env or client_secret_file")
	}
	switch {
	case o.Grant == GrantRefreshToken && o.RefreshTokenEnv == "" && o.RefreshTokenFile == "":
		col.Add(path, "grant refresh_token needs refresh_token_env or refresh_token_file")
	case o.RefreshTokenEnv != "" && o.RefreshTokenFile != "":
		col.Add(at("refresh_token_file"), "refresh_token_env and refresh_token_file both give the token: keep one")
	case o.Grant == GrantClientCredentials && (o.RefreshTokenEnv != "" || o.RefreshTokenFile != ""):
		col.Add(path, "grant client_credentials takes no refresh token")
	}
	o.ClientSecretFile, o.RefreshTokenFile = resolve(o.ClientSecretFile), resolve(o.RefreshTokenFile)
}

// The OAuth2 grants.
const (
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

func (s *Sink) validate(col *tomlpos.Collector, path string) {
	at := func(key string) string { return path + "." + key }
	if !slices.Contains(sinkTypes, s.Type) {
		col.Add(at("type"), "%q (allowed: alertmanager, exec, webhook)", s.Type)
	}
	switch s.Type {
	case SinkWebhook, SinkAlertmanager:
		switch {
		case s.URL == "" && s.URLEnv == "":
			col.Add(path, "a %s sink needs url or url_env", s.Type)
		case s.URL != "" && s.URLEnv != "":
			col.Add(at("url_env"), "url and url_env both give the URL: keep one")
		case s.URL != "":
			if u, err := parseHTTPURL(s.URL); err != nil {
				col.Add(at("url"), "%v", err)
			} else if u.User != nil {
				col.Add(at("url"), "carries credentials: put the URL in url_env instead")
			}
		}
		if len(s.Command) > 0 {
			col.Add(at("command"), "only an exec sink runs a command")
		}
	case SinkExec:
		if len(s.Command) == 0 || s.Command[0] == "" {
			col.Add(path, "an exec sink needs command = [\"/path/to/hook\", ...]")
		}
		if s.URL != "" || s.URLEnv != "" {
			col.Add(path, "an exec sink takes no url")
		}
	}
	switch {
	case s.Timeout < 0:
		col.Add(at("timeout"), "negative duration %v", s.Timeout)
	case s.Timeout == 0:
		s.Timeout = DefaultSinkTimeout
	}
	if s.Retries == nil {
		r := DefaultSinkRetries
		s.Retries = &r
	} else if *s.Retries < 0 {
		col.Add(at("retries"), "%d: want 0 or more", *s.Retries)
	}
}

// allowedHint lists the keys a table accepts, for unknown-key errors.
func allowedHint(key toml.Key) string {
	parent := tomlpos.StripIndexes(strings.Join(key[:len(key)-1], "."))
	if t, ok := allowedKeys[parent]; ok {
		return " (allowed: " + tomlKeys(t) + ")"
	}
	return ""
}

// allowedKeys is derived from the struct tags, so that it cannot drift
// from what the decoder accepts.
var allowedKeys = map[string]reflect.Type{
	"":               reflect.TypeOf(Config{}),
	"monitor":        reflect.TypeOf(Settings{}),
	"targets":        reflect.TypeOf(Target{}),
	"targets.oauth2": reflect.TypeOf(OAuth2{}),
	"alerts":         reflect.TypeOf(Sink{}),
}

func tomlKeys(t reflect.Type) string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("toml"); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return strings.Join(keys, ", ")
}

// CheckSecrets reports the environment variables and files a config's
// secrets come from that are missing, so that a monitor fails at start
// rather than at every check.
func (c *Config) CheckSecrets(getenv func(string) string) error {
	var missing []string
	env := func(target, key, name string) {
		if name != "" && getenv(name) == "" {
			missing = append(missing, fmt.Sprintf("%s: %s: $%s is not set", target, key, name))
		}
	}
	file := func(target, key, name string) {
		if name == "" {
			return
		}
		if _, err := os.Stat(name); err != nil {
			missing = append(missing, fmt.Sprintf("%s: %s: %v", target, key, err))
		}
	}
	for _, t := range c.Targets {
		env(t.Name, "password_env", t.PasswordEnv)
		env(t.Name, "token_env", t.TokenEnv)
		file(t.Name, "password_file", t.passwordFile)
		file(t.Name, "token_file", t.tokenFile)
		if o := t.OAuth2; o != nil {
			env(t.Name, "oauth2.client_secret_env", o.ClientSecretEnv)
			env(t.Name, "oauth2.refresh_token_env", o.RefreshTokenEnv)
			file(t.Name, "oauth2.client_secret_file", o.ClientSecretFile)
			file(t.Name, "oauth2.refresh_token_file", o.RefreshTokenFile)
		}
	}
	for i, s := range c.Alerts {
		env(fmt.Sprintf("alerts[%d]", i), "url_env", s.URLEnv)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: missing secrets:\n  %s", c.File, strings.Join(missing, "\n  "))
	}
	return nil
}

// Target returns the configured target of that name.
func (c *Config) Target(name string) (*Target, bool) {
	for i := range c.Targets {
		if c.Targets[i].Name == name {
			return &c.Targets[i], true
		}
	}
	return nil, false
}
