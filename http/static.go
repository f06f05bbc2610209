package http

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"mime"
	"path"

	"github.com/gofiber/fiber/v2"
)

// staticFiles is the browser UI: plain HTML/CSS/JS, no build step. Files are
// listed one by one so that nothing else under static/ is ever served.
//
//go:embed static/index.html static/app.js static/style.css static/favicon.svg static/account.js static/search.js static/privacy.js static/notifications.js
//go:embed static/admin.js static/admin.css static/vendor/uplot/uPlot.iife.min.js static/vendor/uplot/uPlot.min.css
var staticFiles embed.FS

// contentSecurityPolicy allows only this origin: scripts, styles, images and
// connections (fetch and WebSocket; CSP Level 3 'self' covers ws:/wss: of the
// same host) come from the hub itself, and no page may frame it.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// staticAsset is one embedded file, prepared once: its body, content type and
// a strong ETag so browsers revalidate cheaply instead of keeping stale code.
type staticAsset struct {
	body        []byte
	contentType string
	etag        string
}

// staticRoutes serves the UI at "/" plus its few named assets. It registers
// exact GET/HEAD routes only (no catch-all), so /api, /ws, /metrics, /health,
// /ready and /openapi.json are never shadowed.
func (s *Server) staticRoutes(r fiber.Router) {
	routes := map[string]string{
		"/":                 "static/index.html",
		"/index.html":       "static/index.html",
		"/app.js":           "static/app.js",
		"/account.js":       "static/account.js",
		"/search.js":        "static/search.js",
		"/privacy.js":       "static/privacy.js",
		"/notifications.js": "static/notifications.js",
		"/style.css":        "static/style.css",
		"/favicon.svg":      "static/favicon.svg",
		// admin console and its vendored chart library (uPlot, MIT)
		"/admin.js":                       "static/admin.js",
		"/admin.css":                      "static/admin.css",
		"/vendor/uplot/uPlot.iife.min.js": "static/vendor/uplot/uPlot.iife.min.js",
		"/vendor/uplot/uPlot.min.css":     "static/vendor/uplot/uPlot.min.css",
	}
	for route, file := range routes {
		a, err := loadAsset(file)
		if err != nil {
			// The files are embedded at compile time; a missing one is a build bug.
			panic(err)
		}
		h := a.handler()
		r.Get(route, h)
		r.Head(route, h)
	}
}

func loadAsset(file string) (staticAsset, error) {
	body, err := staticFiles.ReadFile(file)
	if err != nil {
		return staticAsset{}, fmt.Errorf("embedded asset %s: %w", file, err)
	}
	ct := mime.TypeByExtension(path.Ext(file))
	if ct == "" {
		ct = "application/octet-stream"
	}
	sum := sha256.Sum256(body)
	return staticAsset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}, nil
}

// handler answers with the asset, or 304 when the browser's copy is current.
// Cache-Control no-cache: the files are unversioned, so a browser must
// revalidate (a 304 costs a few bytes) rather than run old code against a
// newer API.
func (a staticAsset) handler() fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "no-cache")
		c.Set(fiber.HeaderETag, a.etag)
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
		c.Set(fiber.HeaderXFrameOptions, "DENY")
		c.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
		if c.Get(fiber.HeaderIfNoneMatch) == a.etag {
			return c.SendStatus(fiber.StatusNotModified)
		}
		c.Set(fiber.HeaderContentType, a.contentType)
		return c.Send(a.body)
	}
}
