package http

import (
	"bytes"
	"compress/gzip"
	"runtime"
	"testing"
	"time"
)

// gzipped compresses data once.
func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A review inflated 1.2 KB of "gzip, gzip" into 256 MiB per request. Every
// route that reads a body must refuse encoded bodies before reading them: a
// fast 415, and no allocation in the size of the inflated body. Not parallel,
// so the allocation count is this test's own.
func TestCompressedRequestBodiesAreRefusedWithoutInflating(t *testing.T) {
	ts := newTestServer(t)
	bomb := gzipped(t, gzipped(t, make([]byte, 64<<20))) // 64 MiB of zeros, twice gzipped: ~few KB
	single := gzipped(t, []byte(`{"email":"a@example.com","password":"x"}`))
	tests := []struct {
		name, path, encoding string
		body                 []byte
	}{
		{"double gzip on refresh", "/api/v1/auth/refresh", "gzip, gzip", bomb},
		{"double gzip on logout", "/api/v1/auth/logout", "gzip, gzip", bomb},
		{"gzip on login (read twice: limiter and bind)", "/api/v1/auth/login", "gzip", single},
		{"gzip bomb on login", "/api/v1/auth/login", "gzip", bomb},
		{"deflate on register", "/api/v1/auth/register", "deflate", bomb},
		{"br on bookings", "/api/v1/bookings", "br", bomb},
		{"upper case GZIP", "/api/v1/auth/refresh", "GZIP", bomb},
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := newReq(t, "POST", tc.path, tc.body)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", tc.encoding)
			start := time.Now()
			resp, body := ts.sub(t).send(req)
			if took := time.Since(start); took > 500*time.Millisecond {
				t.Errorf("answer took %v", took)
			}
			if resp.StatusCode != 415 {
				t.Fatalf("status %d, want 415: %s", resp.StatusCode, body)
			}
			if e := decodeAPIError(t, body); e.Error.Code != codeUnsupportedMedia {
				t.Fatalf("code %q", e.Error.Code)
			}
		})
	}
	runtime.ReadMemStats(&after)
	// One inflated bomb alone would allocate 64 MiB (the old code: twice per
	// login). 32 MiB leaves room for the server's own work.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
		t.Fatalf("requests allocated %d MiB: bodies were inflated", grew>>20)
	}
}

func TestIdentityContentEncodingIsAccepted(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	req := newReq(t, "POST", "/api/v1/auth/login", []byte(`{"email":"nobody@example.com","password":"wrong-password"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "identity")
	resp, body := ts.sub(t).send(req)
	if resp.StatusCode != 401 {
		t.Fatalf("status %d, want 401: %s", resp.StatusCode, body)
	}
}
