package http

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// staticFiles is the browser UI: plain HTML/CSS and native ES modules, no
// build step. The patterns name what may be served (top-level modules and
// styles, views/*.js, two vendored uPlot files), so nothing else under
// static/ ever is; the admin console and uPlot are fetched by the page only
// when #/admin opens.
//
//go:embed static/index.html static/favicon.svg static/*.js static/*.css static/views/*.js
//go:embed static/vendor/uplot/uPlot.iife.min.js static/vendor/uplot/uPlot.min.css
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

// staticRoutes serves the UI at "/" plus every embedded file at its path
// under static/ ("/main.js", "/views/admin.js"…). It registers exact GET/HEAD
// routes only (no catch-all), so /api, /ws, /metrics, /health, /ready and
// /openapi.json are never shadowed.
func (s *Server) staticRoutes(r fiber.Router) {
	files, err := staticFileNames()
	if err != nil {
		// The files are embedded at compile time; an unreadable one is a build bug.
		panic(err)
	}
	routes := map[string]string{"/": "static/index.html"}
	for _, f := range files {
		routes[strings.TrimPrefix(f, "static")] = f
	}
	for route, file := range routes {
		a, err := loadAsset(file)
		if err != nil {
			panic(err)
		}
		h := a.handler()
		r.Get(route, h)
		r.Head(route, h)
	}
}

// staticFileNames lists the embedded files ("static/main.js"…), skipping
// unit tests of the page's modules should one ever sit beside them.
func staticFileNames() ([]string, error) {
	var files []string
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(path.Base(p), ".test.") {
			return err
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list embedded UI files: %w", err)
	}
	return files, nil
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
