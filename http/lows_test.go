package http

import (
	"strings"
	"testing"

	"instainstru/market"
)

func TestProductionResponsesCarryHSTS(t *testing.T) {
	for env, want := range map[string]string{"production": hstsValue, "test": ""} {
		ts := newTestServer(t, func(c *Config, _ *Deps) { c.Env = env })
		resp, _ := ts.do("GET", "/health", "", nil)
		if got := resp.Header.Get("Strict-Transport-Security"); got != want {
			t.Errorf("%s: Strict-Transport-Security %q, want %q", env, got, want)
		}
	}
}

func TestNamesWithBidiOverridesOrControlsAreRefused(t *testing.T) {
	ts := newTestServer(t)
	for _, name := range []string{"Dana \u202Egnp.exe", "Dana\u2066 Park", "Dana\x07Park"} {
		resp, body := ts.do("POST", "/api/v1/auth/register", "", map[string]string{
			"email": "bidi-" + strings.ReplaceAll(strings.ToLower(t.Name()), "/", "-") + "@example.com", "password": testPassword,
			"full_name": name, "role": market.RoleStudent,
		})
		if resp.StatusCode != 422 || !strings.Contains(string(body), "full_name") {
			t.Fatalf("name %q: %d %s, want 422 naming full_name", name, resp.StatusCode, body)
		}
	}
	// Quotes and angle brackets are a name's business (emails encode them).
	ts.doJSON("POST", "/api/v1/auth/register", "", map[string]string{
		"email": "dana-quotes@example.com", "password": testPassword, "full_name": `Dana "D <dj> Park`, "role": market.RoleStudent,
	}, 201, nil)
}
