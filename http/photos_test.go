package http

import (
	"bufio"
	"bytes"
	"fmt"
	"image/jpeg"
	"mime/multipart"
	"net"
	nethttp "net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/photo/phototest"
	"instainstru/seed"
)

// putPhoto uploads data as the raw body with contentType.
func (ts *testServer) putPhoto(token, contentType string, data []byte) (*nethttp.Response, []byte) {
	ts.t.Helper()
	req, err := nethttp.NewRequest("PUT", photoUploadPath, bytes.NewReader(data))
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return ts.send(req)
}

// putPhotoForm uploads data as the "photo" field of a multipart form.
func (ts *testServer) putPhotoForm(token string, data []byte) (*nethttp.Response, []byte) {
	ts.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile(photoFormField, "me.jpg")
	if err != nil {
		ts.t.Fatal(err)
	}
	fw.Write(data) //nolint:errcheck // bytes.Buffer
	mw.Close()     //nolint:errcheck // bytes.Buffer
	req, err := nethttp.NewRequest("PUT", photoUploadPath, &body)
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	return ts.send(req)
}

// wantError checks a response's status and error code.
func wantError(t *testing.T, resp *nethttp.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || !strings.Contains(string(body), `"code":"`+code+`"`) {
		t.Fatalf("status %d body %s, want %d %s", resp.StatusCode, body, status, code)
	}
}

func TestPhotoUploadIsServedImmutableAndShownOnInstructors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.seeded()
	var login tokenResponse
	ts.doJSON("POST", "/api/v1/auth/login", "", map[string]string{"email": "sarah.chen@example.com", "password": seed.Password}, 200, &login)
	sarah := login.User.ID

	resp, body := ts.putPhoto(login.AccessToken, "image/png", phototest.PNG(t, phototest.HalvesImage(500, 300)))
	if resp.StatusCode != 200 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	var up photoResponse
	mustJSON(t, body, &up)
	hash, size, ok := market.ParsePhotoFile(strings.TrimPrefix(up.PhotoURL, "/photos/"))
	if !ok || size != market.PhotoLarge {
		t.Fatalf("photo_url %q", up.PhotoURL)
	}

	for _, size := range market.PhotoSizes() {
		resp, img := ts.do("GET", market.PhotoURL(hash, size), "", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" ||
			resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || resp.Header.Get("ETag") == "" {
			t.Fatalf("GET %d px: %d %v", size, resp.StatusCode, resp.Header)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(img))
		if err != nil || cfg.Width != size || cfg.Height != size {
			t.Fatalf("%d px rendition decodes as %+v, %v", size, cfg, err)
		}
		req, _ := nethttp.NewRequest("GET", market.PhotoURL(hash, size), nil)
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		if again, _ := ts.send(req); again.StatusCode != 304 {
			t.Fatalf("revalidation: %d, want 304", again.StatusCode)
		}
	}

	// photo_url on the instructor objects: detail, list, own profile, search.
	var detail, own struct {
		PhotoURL *string `json:"photo_url"`
	}
	ts.doJSON("GET", "/api/v1/instructors/"+sarah, "", nil, 200, &detail)
	ts.doJSON("GET", "/api/v1/instructors/me", login.AccessToken, nil, 200, &own)
	var list struct {
		Items []struct {
			ID       string  `json:"id"`
			PhotoURL *string `json:"photo_url"`
		} `json:"items"`
	}
	ts.doJSON("GET", "/api/v1/instructors?limit=100", "", nil, 200, &list)
	var search struct {
		Items []struct {
			InstructorID string  `json:"instructor_id"`
			PhotoURL     *string `json:"photo_url"`
		} `json:"items"`
	}
	ts.doJSON("GET", searchPath("piano"), "", nil, 200, &search)
	found, others := 0, 0
	for _, it := range list.Items {
		if it.ID == sarah && it.PhotoURL != nil && *it.PhotoURL == up.PhotoURL {
			found++
		} else if it.ID != sarah && it.PhotoURL != nil {
			others++
		}
	}
	for _, it := range search.Items {
		if it.InstructorID == sarah && it.PhotoURL != nil && *it.PhotoURL == up.PhotoURL {
			found++
		}
	}
	if detail.PhotoURL == nil || *detail.PhotoURL != up.PhotoURL || own.PhotoURL == nil || found != 2 || others != 0 {
		t.Fatalf("photo_url: detail %v own %v, found in list+search %d, others with photos %d", detail.PhotoURL, own.PhotoURL, found, others)
	}

	// Removing it: null everywhere, and its URLs are gone.
	ts.doJSON("DELETE", photoUploadPath, login.AccessToken, nil, 204, nil)
	ts.doJSON("GET", "/api/v1/instructors/"+sarah, "", nil, 200, &detail)
	if detail.PhotoURL != nil {
		t.Fatalf("photo_url after DELETE = %q", *detail.PhotoURL)
	}
	resp, body = ts.do("GET", up.PhotoURL, "", nil)
	wantError(t, resp, body, 404, market.ENOTFOUND)
}

func TestPhotoServedHasNoEXIFOrGPS(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, _ := ts.signUp(market.RoleInstructor)
	in := phototest.JPEGWithEXIF(t)
	if !bytes.Contains(in, []byte("Exif")) {
		t.Fatal("fixture has no EXIF")
	}
	resp, body := ts.putPhotoForm(tok, in) // the multipart form of a browser's file input
	if resp.StatusCode != 200 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	var up photoResponse
	mustJSON(t, body, &up)
	hash, _, _ := market.ParsePhotoFile(strings.TrimPrefix(up.PhotoURL, "/photos/"))
	for _, size := range market.PhotoSizes() {
		resp, img := ts.do("GET", market.PhotoURL(hash, size), "", nil)
		if resp.StatusCode != 200 || len(img) < 100 {
			t.Fatalf("GET: %d, %d bytes", resp.StatusCode, len(img))
		}
		for _, bad := range []string{"Exif", "\xFF\xE1", phototest.Secret, "GPS"} {
			if bytes.Contains(img, []byte(bad)) {
				t.Fatalf("%d px rendition contains %q", size, bad)
			}
		}
	}
}

// TestPhotoDecompressionBombIsRefusedWithBoundedMemory uploads a real PNG of
// 20,000 × 20,000 pixels (about 50 KB; 400 MB or more once decoded). Not
// parallel: the allocation count is the process's.
func TestPhotoDecompressionBombIsRefusedWithBoundedMemory(t *testing.T) {
	ts := newTestServer(t)
	tok, _ := ts.signUp(market.RoleInstructor)
	bomb := phototest.BombPNG(t, 20000, 20000)
	ts.putPhoto(tok, "image/png", phototest.PNG(t, phototest.HalvesImage(80, 80))) // warm the route up

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	resp, body := ts.putPhoto(tok, "image/png", bomb)
	runtime.ReadMemStats(&after)
	wantError(t, resp, body, 422, market.EIMAGEDIMENSIONS)
	// TotalAlloc only grows: it bounds the peak heap growth of the request.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Fatalf("refusing the bomb allocated %d MB, want < 64 MB", grew>>20)
	}
	t.Logf("refusing a %d-byte 20,000 × 20,000 PNG allocated %d KB", len(bomb), (after.TotalAlloc-before.TotalAlloc)>>10)
}

func TestPhotoUploadRefusals(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, _ := ts.signUp(market.RoleInstructor)
	student, _ := ts.signUp(market.RoleStudent)
	png := phototest.PNG(t, phototest.HalvesImage(100, 100))

	resp, body := ts.putPhoto(tok, "image/png", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"))
	wantError(t, resp, body, 415, market.EUNSUPPORTEDIMAGE)
	resp, body = ts.putPhoto(tok, "text/plain", png)
	wantError(t, resp, body, 415, market.EUNSUPPORTEDIMAGE)
	resp, body = ts.putPhoto(tok, "image/png", phototest.PNG(t, phototest.HalvesImage(10, 10)))
	wantError(t, resp, body, 422, market.EIMAGETOOSMALL)
	resp, body = ts.putPhoto(tok, "image/png", append(png, make([]byte, market.PhotoMaxBytes)...))
	wantError(t, resp, body, 413, market.EIMAGETOOLARGE)
	resp, body = ts.putPhoto(student, "image/png", png)
	wantError(t, resp, body, 403, market.EFORBIDDEN)
	resp, body = ts.putPhoto("", "image/png", png)
	wantError(t, resp, body, 401, market.EUNAUTHORIZED)
	for _, bad := range []string{"/photos/abc-320.jpg", "/photos/" + strings.Repeat("a", 64) + "-100.jpg", "/photos/" + strings.Repeat("a", 64) + "-320.jpg"} {
		resp, body = ts.do("GET", bad, "", nil)
		wantError(t, resp, body, 404, market.ENOTFOUND)
	}
	// Other routes keep the small body limit (a real socket: app.Test
	// cannot show fasthttp's refusal).
	req, _ := nethttp.NewRequest("PUT", ts.listen()+"/api/v1/instructors/me", bytes.NewReader(bytes.Repeat([]byte(" "), 100<<10)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body) //nolint:errcheck // checked below
	wantError(t, resp, buf.Bytes(), 413, market.ETOOLARGE)
}

// TestPhotoOversizeRefusedBeforeTheBodyIsRead: a request that declares more
// than the limit is answered 413 image_too_large at once, on a real socket,
// while the client has sent none of its 6 MB: the server never buffers it.
func TestPhotoOversizeRefusedBeforeTheBodyIsRead(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, _ := ts.signUp(market.RoleInstructor)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.listen(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // test socket
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n\xFF\xD8",
		photoUploadPath, tok, 6<<20)
	resp, err := nethttp.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body) //nolint:errcheck // checked below
	wantError(t, resp, buf.Bytes(), 413, market.EIMAGETOOLARGE)
}
