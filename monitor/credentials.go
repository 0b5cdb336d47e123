package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/imapfault/imapfault/client"
)

// secrets hands out each target's secret for a check, read afresh from
// its source (so that a rotated file or variable takes effect), with
// OAuth2 access tokens cached until they expire.
type secrets struct {
	getenv func(string) string
	mu     sync.Mutex
	tokens map[string]*oauth2.Token // by target; holds the rotated refresh token too
}

func newSecrets(getenv func(string) string) *secrets {
	return &secrets{getenv: getenv, tokens: map[string]*oauth2.Token{}}
}

// unavailable is the diagnosis of a secret that could not be read; the
// evidence names its source, never its value.
func unavailable(format string, args ...any) *client.Diagnosis {
	return &client.Diagnosis{Code: client.CodeAuthSecretUnavailable, Phase: "auth",
		Evidence: fmt.Sprintf(format, args...), Advice: client.Advice(client.CodeAuthSecretUnavailable)}
}

func (s *secrets) get(ctx context.Context, t *Target) (string, *client.Diagnosis) {
	switch {
	case t.PasswordEnv != "":
		return s.env("password_env", t.PasswordEnv)
	case t.passwordFile != "":
		return readSecretFile("password_file", t.passwordFile)
	case t.TokenEnv != "":
		return s.env("token_env", t.TokenEnv)
	case t.tokenFile != "":
		return readSecretFile("token_file", t.tokenFile)
	case len(t.TokenCommand) > 0:
		return runTokenCommand(ctx, t)
	case t.OAuth2 != nil:
		return s.oauth(ctx, t)
	}
	return "", unavailable("no secret configured")
}

func (s *secrets) env(key, name string) (string, *client.Diagnosis) {
	if v := s.getenv(name); v != "" {
		return v, nil
	}
	return "", unavailable("%s: $%s is not set", key, name)
}

// readSecretFile returns the first line of a file.
func readSecretFile(key, path string) (string, *client.Diagnosis) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", unavailable("%s: %v", key, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", unavailable("%s: %s is empty", key, path)
	}
	return line, nil
}

// runTokenCommand runs the target's token command, bounded by its step
// timeout, and takes the first line of its output. Its stderr is not
// shown: a failing helper may print what it was given.
func runTokenCommand(ctx context.Context, t *Target) (string, *client.Diagnosis) {
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, t.TokenCommand[0], t.TokenCommand[1:]...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			err = fmt.Errorf("exit status %d", exit.ExitCode())
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("no token within %v", t.Timeout)
		}
		return "", unavailable("token_command %s: %v", t.TokenCommand[0], err)
	}
	line, _, _ := strings.Cut(out.String(), "\n")
	line = strings.TrimSpace(line)
	if line == "" {
		return "", unavailable("token_command %s printed no token", t.TokenCommand[0])
	}
	return line, nil
}

// oauth returns a valid access token for t, asking the token endpoint
// for a new one when the cached one expires. The request is bounded by
// the check's context and the target's step timeout.
func (s *secrets) oauth(ctx context.Context, t *Target) (string, *client.Diagnosis) {
	s.mu.Lock()
	tok := s.tokens[t.Name]
	s.mu.Unlock()
	if tok.Valid() {
		return tok.AccessToken, nil
	}
	o := t.OAuth2
	var secret string
	switch {
	case o.ClientSecretEnv != "":
		secret = s.getenv(o.ClientSecretEnv)
		if secret == "" {
			return "", unavailable("oauth2.client_secret_env: $%s is not set", o.ClientSecretEnv)
		}
	case o.ClientSecretFile != "":
		var d *client.Diagnosis
		if secret, d = readSecretFile("oauth2.client_secret_file", o.ClientSecretFile); d != nil {
			return "", d
		}
	}
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Timeout: t.Timeout})
	var (
		fresh *oauth2.Token
		err   error
	)
	switch o.Grant {
	case GrantClientCredentials:
		cc := clientcredentials.Config{ClientID: o.ClientID, ClientSecret: secret, TokenURL: o.TokenURL, Scopes: o.Scopes}
		fresh, err = cc.Token(ctx)
	default:
		refresh := ""
		if tok != nil {
			refresh = tok.RefreshToken // the provider may have rotated it
		}
		if refresh == "" {
			var d *client.Diagnosis
			if o.RefreshTokenEnv != "" {
				refresh, d = s.env("oauth2.refresh_token_env", o.RefreshTokenEnv)
			} else {
				refresh, d = readSecretFile("oauth2.refresh_token_file", o.RefreshTokenFile)
			}
			if d != nil {
				return "", d
			}
		}
		cfg := oauth2.Config{ClientID: o.ClientID, ClientSecret: secret, Scopes: o.Scopes,
			Endpoint: oauth2.Endpoint{TokenURL: o.TokenURL}}
		fresh, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh}).Token()
	}
	if err != nil {
		return "", refreshFailed(o.TokenURL, err)
	}
	s.mu.Lock()
	s.tokens[t.Name] = fresh
	s.mu.Unlock()
	return fresh.AccessToken, nil
}

// refreshFailed turns a token endpoint's refusal into a diagnosis with
// its OAuth error code (RFC 6749 §5.2) and HTTP status; the request, which
// carries the secrets, is never shown.
func refreshFailed(tokenURL string, err error) *client.Diagnosis {
	evidence := "token endpoint " + tokenURL + ": "
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re):
		code := re.ErrorCode
		if code == "" {
			code = "no error code"
		}
		evidence += fmt.Sprintf("HTTP %d, error %s", re.Response.StatusCode, code)
		if re.ErrorDescription != "" {
			evidence += ": " + re.ErrorDescription
		}
	default:
		evidence += "no token: " + err.Error()
	}
	return &client.Diagnosis{Code: client.CodeAuthOAuthTokenRefreshFailed, Phase: "auth", Evidence: evidence,
		Advice: client.Advice(client.CodeAuthOAuthTokenRefreshFailed)}
}
