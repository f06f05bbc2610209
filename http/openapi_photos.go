package http

import (
	"fmt"

	"instainstru/market"
)

// photoOps documents instructor photos (photos.go).
func photoOps() []apiOp {
	binary := map[string]any{"type": "string", "format": "binary"}
	refused := map[string]string{
		"413": fmt.Sprintf("image_too_large: over %d bytes (checked while reading)", market.PhotoMaxBytes),
		"415": "unsupported_image: not a JPEG, PNG or WebP image, or it does not decode",
		"422": fmt.Sprintf("image_dimensions_too_large (over %d px a side or %d pixels, read from the header before decoding) "+
			"or image_dimensions_too_small (under %d px a side)", market.PhotoMaxSide, market.PhotoMaxPixels, market.PhotoMinSide),
	}
	return []apiOp{
		{Method: "PUT", Path: photoUploadPath, Tag: "instructors",
			Summary: "Set the caller's photo: the image as the raw body (image/jpeg, image/png or image/webp) or as the multipart " +
				"field \"photo\". It is decoded, turned upright (EXIF orientation), center-cropped to a square and re-encoded as " +
				"96 and 320 px JPEGs; nothing else of the file (EXIF, GPS, ICC, comments) is kept. photo_url is the 320 px " +
				"rendition; the same URL ending -96.jpg is the small one.",
			Auth: market.PermProfileManage, Request: binary, RequestTypes: []string{"image/jpeg", "image/png", "image/webp"},
			Status: 200, Response: photoResponse{}, Errors: refused},
		{Method: "DELETE", Path: photoUploadPath, Tag: "instructors",
			Summary: "Remove the caller's photo (204 also when there was none); its URLs answer 404 from then on",
			Auth:    market.PermProfileManage, Status: 204},
		{Method: "GET", Path: "/photos/:file.jpg", Tag: "instructors",
			Summary: "A photo rendition, /photos/<sha256>-<96|320>.jpg, as photo_url names it. Cache-Control: public, " +
				"max-age=31536000, immutable (a new photo has a new URL); 404 once replaced or removed.",
			PathSchema: map[string]any{"type": "string", "pattern": "^[0-9a-f]{64}-(96|320)$"},
			Status:     200, ResponseType: "image/jpeg", Response: binary},
	}
}
