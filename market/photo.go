package market

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Instructor photos (docs/features/photos.md): what an upload may be, the
// sizes the server renders, and the public URL of each rendition.
const (
	// PhotoMaxBytes is the largest upload accepted (5 MiB). The http layer
	// stops reading a body past it.
	PhotoMaxBytes = 5 << 20
	// PhotoMaxSide and PhotoMaxPixels bound the declared dimensions, read
	// from the image header before any pixel is decoded: a small file can
	// declare 20,000 × 20,000 pixels (1.6 GB once decoded).
	PhotoMaxSide   = 8000
	PhotoMaxPixels = 40_000_000
	// PhotoMinSide: smaller images would only be blown up into a blur.
	PhotoMinSide = 64

	// PhotoSmall (cards) and PhotoLarge (the profile page) are the square,
	// center-cropped JPEG renditions the server keeps.
	PhotoSmall = 96
	PhotoLarge = 320
)

// PhotoSizes lists the renditions, smallest first.
func PhotoSizes() []int { return []int{PhotoSmall, PhotoLarge} }

// Error codes of photo uploads.
const (
	// EUNSUPPORTEDIMAGE (415): the body is not a JPEG, PNG or WebP image
	// that decodes.
	EUNSUPPORTEDIMAGE = "unsupported_image"
	// EIMAGETOOLARGE (413): the upload is over PhotoMaxBytes.
	EIMAGETOOLARGE = "image_too_large"
	// EIMAGEDIMENSIONS (422): the image declares more pixels than
	// PhotoMaxSide or PhotoMaxPixels allow.
	EIMAGEDIMENSIONS = "image_dimensions_too_large"
	// EIMAGETOOSMALL (422): a side is under PhotoMinSide.
	EIMAGETOOSMALL = "image_dimensions_too_small"
)

// Photo is an instructor's photo as stored: JPEG renditions the server
// encoded itself (no metadata survives), and Hash, the hex SHA-256 of
// Large, which names both in their URLs.
type Photo struct {
	Hash  string
	Small []byte // PhotoSmall × PhotoSmall
	Large []byte // PhotoLarge × PhotoLarge
}

// CheckPhotoDimensions is the rule for an image's declared size: nil, or
// an EIMAGEDIMENSIONS / EIMAGETOOSMALL error that says the limit.
func CheckPhotoDimensions(width, height int) error {
	switch {
	case width > PhotoMaxSide || height > PhotoMaxSide || width*height > PhotoMaxPixels:
		return &Error{Code: EIMAGEDIMENSIONS,
			Message: fmt.Sprintf("the image is %d × %d pixels; the limit is %d pixels a side and %d megapixels",
				width, height, PhotoMaxSide, PhotoMaxPixels/1_000_000),
			Details: map[string]any{"width": width, "height": height, "max_side": PhotoMaxSide, "max_pixels": PhotoMaxPixels}}
	case width < PhotoMinSide || height < PhotoMinSide:
		return &Error{Code: EIMAGETOOSMALL,
			Message: fmt.Sprintf("the image is %d × %d pixels; use one at least %d pixels a side", width, height, PhotoMinSide),
			Details: map[string]any{"width": width, "height": height, "min_side": PhotoMinSide}}
	}
	return nil
}

// PhotoURL is the public, immutable URL of one rendition.
func PhotoURL(hash string, size int) string {
	return "/photos/" + hash + "-" + strconv.Itoa(size) + ".jpg"
}

var photoFile = regexp.MustCompile(`^([0-9a-f]{64})-([0-9]+)\.jpg$`)

// ParsePhotoFile reads the last segment of a photo URL ("<hash>-320.jpg");
// ok is false unless the hash is 64 lowercase hex digits and the size is one
// of PhotoSizes.
func ParsePhotoFile(name string) (hash string, size int, ok bool) {
	m := photoFile.FindStringSubmatch(name)
	if m == nil || strings.HasPrefix(m[2], "0") {
		return "", 0, false
	}
	size, err := strconv.Atoi(m[2])
	if err != nil || (size != PhotoSmall && size != PhotoLarge) {
		return "", 0, false
	}
	return m[1], size, true
}
