package http

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"instainstru/market"
	"instainstru/photo"
)

// Instructor photos (docs/features/photos.md): an instructor uploads one
// image; the server keeps only its own re-encoded JPEG renditions and serves
// them at content-hash URLs that never change meaning, so browsers may cache
// them for a year without asking again.

// photoUploadPath is the upload route, the one request whose body may be
// larger than Config.BodyLimit (photoBodyLimit).
const photoUploadPath = "/api/v1/instructors/me/photo"

// photoFormField is the multipart/form-data field that carries the image
// when the upload is a form rather than a raw image body.
const photoFormField = "photo"

// multipartSlack is room for a form's boundaries and part headers around
// the image itself.
const multipartSlack = 64 << 10

// photoRenders is how many uploads are decoded at once per node: decoding
// holds up to ~160 MB for a 40-megapixel image, so this bounds memory.
const photoRenders = 2

// photoCacheControl: the URL names the bytes (their hash), so they never
// change under it.
const photoCacheControl = "public, max-age=31536000, immutable"

// photoStore: the photos table (store/photos.go).
type photoStore interface {
	SavePhoto(ctx context.Context, instructorID string, p *market.Photo) error
	DeletePhoto(ctx context.Context, instructorID string) error
	PhotoImage(ctx context.Context, hash string, size int) ([]byte, error)
	PhotoHashes(ctx context.Context, instructorIDs []string) (map[string]string, error)
}

// photoRoutes registers the upload, its removal and the public images. It
// also installs photoBodyLimit on the fasthttp server: the body limit is
// decided there, from the request line, before any of the body is read.
func (s *Server) photoRoutes(r fiber.Router) {
	renderer := photo.NewRenderer(photoRenders)
	limit := max(s.cfg.BodyLimit, market.PhotoMaxBytes+multipartSlack)
	s.app.Server().HeaderReceived = func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		if isPhotoUpload(h.Method(), h.RequestURI()) {
			return fasthttp.RequestConfig{MaxRequestBodySize: limit}
		}
		return fasthttp.RequestConfig{}
	}
	s.handle(r, "PUT", "/instructors/me/photo", market.PermProfileManage, s.putMyPhoto(renderer))
	s.handle(r, "DELETE", "/instructors/me/photo", market.PermProfileManage, s.deleteMyPhoto)
	s.app.Get("/photos/:file.jpg", s.servePhoto) // GET answers HEAD too
}

// isPhotoUpload says whether a request line is PUT of the upload path
// (Fiber's routing ignores case and a trailing slash; so does this).
func isPhotoUpload(method, uri []byte) bool {
	if !bytes.Equal(method, []byte(fiber.MethodPut)) {
		return false
	}
	path, _, _ := bytes.Cut(uri, []byte("?"))
	return strings.EqualFold(strings.TrimSuffix(string(path), "/"), photoUploadPath)
}

// photoResponse is the answer to an upload.
type photoResponse struct {
	PhotoURL string `json:"photo_url"`
}

// putMyPhoto is PUT /instructors/me/photo: the body is the image itself
// (Content-Type image/jpeg, image/png or image/webp) or a
// multipart/form-data form with the image in the field "photo". Whatever
// the declared type, the bytes are sniffed and decoded; see photo.Render.
func (s *Server) putMyPhoto(renderer *photo.Renderer) fiber.Handler {
	return func(c *fiber.Ctx) error {
		data, err := photoBody(c)
		if err != nil {
			return err
		}
		p, err := renderer.Render(c.UserContext(), data)
		if err != nil {
			return err
		}
		if err := s.deps.DB.SavePhoto(c.UserContext(), currentUser(c).ID, p); err != nil {
			return err
		}
		return c.JSON(photoResponse{PhotoURL: market.PhotoURL(p.Hash, market.PhotoLarge)})
	}
}

// photoBody returns the uploaded image's bytes, refusing bodies that are
// not an image upload (415 unsupported_image) or are over
// market.PhotoMaxBytes (413 image_too_large).
func photoBody(c *fiber.Ctx) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	switch {
	case err == nil && mt == fiber.MIMEMultipartForm:
		return formPhoto(c)
	case err == nil && (mt == "image/jpeg" || mt == "image/png" || mt == "image/webp"):
		data := rawBody(c)
		if len(data) > market.PhotoMaxBytes {
			return nil, photoTooLarge()
		}
		if len(data) == 0 {
			return nil, &market.Error{Code: market.EUNSUPPORTEDIMAGE, Message: "the request has no image"}
		}
		return data, nil
	}
	return nil, &market.Error{Code: market.EUNSUPPORTEDIMAGE,
		Message: "send the image as the body with Content-Type image/jpeg, image/png or image/webp, " +
			"or as multipart/form-data with the field \"" + photoFormField + "\"",
		Details: map[string]any{"content_type": c.Get(fiber.HeaderContentType)}}
}

// formPhoto reads the "photo" file of a multipart form, at most
// PhotoMaxBytes of it.
func formPhoto(c *fiber.Ctx) ([]byte, error) {
	fh, err := c.FormFile(photoFormField)
	if err != nil {
		return nil, &market.Error{Code: market.EUNSUPPORTEDIMAGE,
			Message: "the form has no file in the field \"" + photoFormField + "\""}
	}
	if fh.Size > market.PhotoMaxBytes {
		return nil, photoTooLarge()
	}
	f, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("open uploaded photo: %w", err)
	}
	defer f.Close() //nolint:errcheck // read-only
	data, err := io.ReadAll(io.LimitReader(f, market.PhotoMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read uploaded photo: %w", err)
	}
	if len(data) > market.PhotoMaxBytes {
		return nil, photoTooLarge()
	}
	return data, nil
}

func photoTooLarge() *market.Error {
	return &market.Error{Code: market.EIMAGETOOLARGE,
		Message: fmt.Sprintf("the image is larger than %d MB", market.PhotoMaxBytes>>20),
		Details: map[string]any{"max_bytes": market.PhotoMaxBytes}}
}

// photoUploadTooLarge turns the generic 413 that fasthttp answers (a body
// declared larger than the limit is refused before it is read) into
// image_too_large on the upload route, so the page can say why.
func photoUploadTooLarge(c *fiber.Ctx, me *market.Error) *market.Error {
	if me != nil && me.Code == market.ETOOLARGE && isPhotoUpload([]byte(c.Method()), []byte(c.OriginalURL())) {
		return photoTooLarge()
	}
	return me
}

func (s *Server) deleteMyPhoto(c *fiber.Ctx) error {
	if err := s.deps.DB.DeletePhoto(c.UserContext(), currentUser(c).ID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// servePhoto is GET /photos/<hash>-<size>.jpg: the JPEG, cached for a year
// as immutable (a new photo has a new hash, so a new URL). A replaced or
// deleted photo's URL answers 404.
func (s *Server) servePhoto(c *fiber.Ctx) error {
	hash, size, ok := market.ParsePhotoFile(c.Params("file") + ".jpg")
	if !ok {
		return &market.Error{Code: market.ENOTFOUND, Message: "photo not found"}
	}
	etag := `"` + hash + "-" + fmt.Sprint(size) + `"`
	if c.Get(fiber.HeaderIfNoneMatch) == etag {
		c.Set(fiber.HeaderCacheControl, photoCacheControl)
		c.Set(fiber.HeaderETag, etag)
		return c.SendStatus(fiber.StatusNotModified)
	}
	img, err := s.deps.DB.PhotoImage(c.UserContext(), hash, size)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/jpeg")
	c.Set(fiber.HeaderCacheControl, photoCacheControl)
	c.Set(fiber.HeaderETag, etag)
	return c.Send(img)
}

// photoURLs maps each of ids that has a photo to its URL (market.PhotoURL,
// the large rendition), in one query; ids without one are absent (nil).
func (s *Server) photoURLs(ctx context.Context, ids ...string) (map[string]*string, error) {
	hashes, err := s.deps.DB.PhotoHashes(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("photos: %w", err)
	}
	out := make(map[string]*string, len(hashes))
	for id, h := range hashes {
		u := market.PhotoURL(h, market.PhotoLarge)
		out[id] = &u
	}
	return out, nil
}

// photoURL is photoURLs for one instructor.
func (s *Server) photoURL(ctx context.Context, id string) (*string, error) {
	m, err := s.photoURLs(ctx, id)
	if err != nil {
		return nil, err
	}
	return m[id], nil
}

// searchItems adds each hit's photo URL (one query for the page).
func (s *Server) searchItems(ctx context.Context, hits []market.SearchHit) ([]searchItem, error) {
	ids := make([]string, 0, len(hits))
	for _, h := range hits {
		ids = append(ids, h.InstructorID)
	}
	photos, err := s.photoURLs(ctx, ids...)
	if err != nil {
		return nil, err
	}
	out := make([]searchItem, 0, len(hits))
	for _, h := range hits {
		out = append(out, searchItem{SearchHit: h, PhotoURL: photos[h.InstructorID]})
	}
	return out, nil
}
