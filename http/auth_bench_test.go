package http

import (
	"io"
	nethttp "net/http"
	"testing"

	"instainstru/market"
)

// BenchmarkAuthenticatedRequest is one GET /auth/me over a kept-alive
// loopback connection: JWT check plus the one user query every
// authenticated request makes (which also refuses deleted accounts).
func BenchmarkAuthenticatedRequest(b *testing.B) {
	ts := newTestServer(b)
	tok, _ := ts.signUp(market.RoleStudent)
	base := ts.listen()
	req, err := nethttp.NewRequest("GET", base+"/api/v1/auth/me", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	client := &nethttp.Client{}
	for b.Loop() {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
