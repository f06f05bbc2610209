// Package photo turns an uploaded instructor photo into the JPEG renditions
// the hub serves: it refuses what is not a JPEG, PNG or WebP image, checks
// the declared dimensions before decoding a single pixel (so a small file
// that declares 20,000 × 20,000 pixels costs nothing), applies the EXIF
// orientation, center-crops to a square, resizes with
// github.com/disintegration/imaging and encodes fresh JPEGs from the pixels.
// Nothing of the upload but its pixels survives: EXIF (GPS included), ICC,
// XMP and comments are never copied, because the encoder writes only what
// it is given.
package photo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // PNG uploads
	"slices"

	"github.com/disintegration/imaging"
	_ "golang.org/x/image/webp" // WebP uploads

	"instainstru/market"
)

// Formats are the image.DecodeConfig format names accepted. imaging also
// registers gif, bmp and tiff decoders; those are refused.
var Formats = []string{"jpeg", "png", "webp"}

// jpegQuality is the quality of the renditions: small files, no visible
// artefacts at 96 and 320 px.
const jpegQuality = 85

// Renderer renders uploads, at most a fixed number at a time: decoding a
// 40-megapixel image holds up to ~160 MB, so the number of concurrent
// renders bounds the process's memory, whatever the number of uploads.
type Renderer struct {
	slots chan struct{}
}

// NewRenderer returns a Renderer that decodes at most concurrent images at
// once (at least one).
func NewRenderer(concurrent int) *Renderer {
	return &Renderer{slots: make(chan struct{}, max(concurrent, 1))}
}

// Render checks data and returns the renditions. Errors are *market.Error:
// EUNSUPPORTEDIMAGE (not a JPEG, PNG or WebP, or it does not decode),
// EIMAGEDIMENSIONS or EIMAGETOOSMALL (from the header, before decoding);
// or ctx's error while waiting for a free slot.
func (r *Renderer) Render(ctx context.Context, data []byte) (*market.Photo, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || !slices.Contains(Formats, format) {
		return nil, &market.Error{Code: market.EUNSUPPORTEDIMAGE,
			Message: "the file is not a JPEG, PNG or WebP image", Details: map[string]any{"accepted": Formats}}
	}
	if err := market.CheckPhotoDimensions(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to render photo: %w", ctx.Err())
	}
	img, err := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true))
	if err != nil {
		return nil, &market.Error{Code: market.EUNSUPPORTEDIMAGE,
			Message: "the image could not be decoded (is the file complete?)", Details: map[string]any{"format": format}}
	}
	return renditions(img)
}

// renditions crops img to a centered square, flattens any transparency onto
// white (JPEG has no alpha) and encodes both sizes.
func renditions(img image.Image) (*market.Photo, error) {
	large := imaging.Fill(img, market.PhotoLarge, market.PhotoLarge, imaging.Center, imaging.Lanczos)
	large = imaging.Overlay(imaging.New(market.PhotoLarge, market.PhotoLarge, color.White), large, image.Point{}, 1)
	small := imaging.Resize(large, market.PhotoSmall, market.PhotoSmall, imaging.Lanczos)
	p := &market.Photo{}
	var err error
	if p.Large, err = encodeJPEG(large); err != nil {
		return nil, err
	}
	if p.Small, err = encodeJPEG(small); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(p.Large)
	p.Hash = hex.EncodeToString(sum[:])
	return p, nil
}

func encodeJPEG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: jpegQuality}); err != nil {
		return nil, fmt.Errorf("encode photo: %w", err)
	}
	return buf.Bytes(), nil
}
