package monitor

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/internal/tomlpos"
	"github.com/imapfault/imapfault/server"
)

// The minimal contract, as written.
const minimal = `[[targets]]
name = "acme"
address = "127.0.0.1:1143"
tls = "starttls"          # none | starttls | implicit
ca_file = "ca.pem"        # relative to the config file
user = "alice"
password_env = "ACME_PW"
interval = "30s"
`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, testCA(t), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "monitor.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMinimalContract(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, minimal))
	if err != nil {
		t.Fatalf("LoadConfig(minimal) = %v", err)
	}
	tg := cfg.Targets[0]
	if tg.Interval != 30*time.Second || tg.Failures != DefaultFailures || tg.Successes != DefaultSuccesses ||
		tg.Auth != "login" || tg.rootCAs == nil || cfg.Monitor.Concurrency != DefaultConcurrency {
		t.Errorf("defaults = %+v / %+v", tg, cfg.Monitor)
	}
	if err := cfg.CheckSecrets(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "$ACME_PW is not set") {
		t.Errorf("CheckSecrets(no env) = %v, want $ACME_PW is not set", err)
	}
	if err := cfg.CheckSecrets(func(string) string { return "pw" }); err != nil {
		t.Errorf("CheckSecrets(env) = %v", err)
	}
	if !IsConfig([]byte(minimal)) || IsConfig([]byte("name = \"x\"\n[server]\ntls = \"none\"\n")) {
		t.Error("IsConfig tells a monitor config from a scenario wrongly")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"syntax", "[[targets]\n", []string{":2: expected end of table array"}},
		{"unknown key", minimal + "pasword_env = \"X\"\n", []string{`:5: targets[0].ca_file: open ca.pem`, `:9: targets[0].pasword_env: unknown key "pasword_env" (allowed: name, address`}},
		{"wrong type", minimal + "failures = \"two\"\n", []string{":9: "}},
		{"no targets", "[monitor]\nconcurrency = 2\n", []string{"no [[targets]]"}},
		{"bad values", `[[targets]]
name = "a b"
address = "nohost"
tls = "ssl"
interval = "-1s"
`, []string{
			`:2: targets[0].name: "a b": want letters`,
			`:3: targets[0].address: "nohost": want HOST:PORT`,
			`:4: targets[0].tls: "ssl" (allowed: none, starttls, implicit)`,
			`:5: targets[0].interval: negative duration -1s`,
		}},
		{"two secrets", `[[targets]]
name = "a"
address = "h:143"
user = "u"
password_env = "A"
password_file = "f"
`, []string{`:6: targets[0].password_file: password_env and password_file both give the secret: keep one`}},
		{"password for a token mechanism", `[[targets]]
name = "a"
address = "h:993"
user = "u"
auth = "xoauth2"
password_env = "A"
`, []string{`:6: targets[0].password_env: auth xoauth2 takes a token, not a password`}},
		{"duplicate names", `[[targets]]
name = "a"
address = "h:143"

[[targets]]
name = "a"
address = "h:144"
`, []string{`:6: targets[1].name: "a" is also the name of targets[0]`}},
		{"thresholds", `[[targets]]
name = "a"
address = "h:143"
warning = { total = "x", auth = "1" }
critical = { login = "2" }
`, []string{`:4: targets[0].warning: total: range "x"`, `:5: targets[0].critical: unknown threshold "login"`}},
		{"oauth2 without a refresh token", `[[targets]]
name = "a"
address = "h:993"
user = "u"
auth = "xoauth2"

[targets.oauth2]
token_url = "https://login.example.com/token?secret=1"
client_id = "id"
`, []string{`:7: targets[0].oauth2: grant refresh_token needs`, `:8: targets[0].oauth2.token_url: must not carry`}},
		{"sinks", `[[targets]]
name = "a"
address = "h:143"

[[alerts]]
type = "pager"

[[alerts]]
type = "webhook"
url = "https://user:pw@example.com/"

[[alerts]]
type = "exec"
`, []string{`:6: alerts[0].type: "pager"`, `:10: alerts[1].url: carries credentials`, `:12: alerts[2]: an exec sink needs command`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("m.toml", []byte(tt.text))
			var list tomlpos.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("ParseConfig() = %v, want an ErrorList", err)
			}
			if len(list) != len(tt.want) {
				t.Errorf("ParseConfig() gave %d errors, want %d:\n%v", len(list), len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParseConfig() =\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestThresholdsInConfig(t *testing.T) {
	cfg, err := ParseConfig("m.toml", []byte(`[[targets]]
name = "a"
address = "h:143"
warning = { total = "2", auth = "1", cert_days = "30:" }
critical = { cert_days = "7:" }
`))
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.Targets[0].warning
	if diff := cmp.Diff([]string{"2", "1", "30:"}, []string{w.Total.Spec, w.Steps["auth"].Spec, w.CertDays.Spec}); diff != "" {
		t.Errorf("warning thresholds (-want +got):\n%s", diff)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte("[monitor]\nlisten = \"127.0.0.1:9143\"\njitter = 0.2\n[[targets]]\nname = \"a\"\naddress = \"h:1\"\nwarning = { total = \"@1:2\" }\n[[alerts]]\ntype = \"exec\"\ncommand = [\"/bin/true\"]\n"))
	f.Add([]byte("[[targets]]\nname = \"a\"\naddress = \"h:993\"\nuser = \"u\"\nauth = \"xoauth2\"\n[targets.oauth2]\ngrant = \"client_credentials\"\ntoken_url = \"https://x/t\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig("fuzz.toml", data)
		if err != nil {
			var list tomlpos.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("ParseConfig error %v is not an ErrorList", err)
			}
			return
		}
		if len(cfg.Targets) == 0 || cfg.Monitor.Concurrency < 1 {
			t.Fatalf("accepted a config without targets or concurrency: %+v", cfg)
		}
		for _, tg := range cfg.Targets {
			if tg.Interval <= 0 || tg.Timeout <= 0 || tg.Failures < 1 || tg.Successes < 1 {
				t.Fatalf("accepted target %+v without its defaults", tg)
			}
		}
	})
}

// testCA returns a CA certificate in PEM, made by the fake server's
// certificate code (tests may use it; the package may not).
func testCA(t *testing.T) []byte {
	t.Helper()
	c, err := server.NewCerts()
	if err != nil {
		t.Fatal(err)
	}
	return c.CAPEM()
}

// TestIsConfig checks lint's choice between a monitor config and a
// scenario, including the spellings TOML allows for the two keys.
func TestIsConfig(t *testing.T) {
	tests := []struct {
		src  string
		want bool
	}{
		{"[[targets]]\naddress = \"h:993\"\n", true},
		{"[monitor]\ninterval = \"1m\"\n", true},
		{"[ \"monitor\" ]\ninterval = \"1m\"\n", true},
		{"[[ 'targets' ]]\naddress = \"h:993\"\n", true},
		{"[monitor.sinks]\nx = 1\n", true},
		{"monitor.interval = \"1m\"\n", true},
		{"targets = [{ address = \"h:993\" }]\n", true},
		{"  \"targets\" = []\n", true},
		{"name = \"healthy\"\n[server]\ntls = \"none\"\n", false},
		// Only inside strings or below another table: not top-level keys.
		{"description = \"\"\"\n[[targets]]\nmonitor = 1\n\"\"\"\n", false},
		{"[server]\nmonitor = true\ntargets = 2\n", false},
		{"[[users]]\nname = \"targets\"\n", false},
		{"not toml [[targets]\n", false},
	}
	for _, tt := range tests {
		if got := IsConfig([]byte(tt.src)); got != tt.want {
			t.Errorf("IsConfig(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
}

// FuzzIsConfig holds the line scan to what it promises: it never rules
// out a file whose decode has monitor or targets at the top level.
func FuzzIsConfig(f *testing.F) {
	for _, s := range []string{"[[targets]]\n", "monitor.x = 1\n", "[a]\n[ monitor ]\n", "'targets' = 1\n", "name = \"x\"\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if hasConfigKey([]byte(src)) && !mentionsConfigKey([]byte(src)) {
			t.Errorf("the scan misses a config key in %q", src)
		}
	})
}
