package market

import (
	"strings"
	"testing"
)

func TestCheckPhotoDimensions(t *testing.T) {
	tests := []struct {
		name          string
		width, height int
		want          string
	}{
		{"a phone portrait fits", 3024, 4032, ""},
		{"exactly the side limit fits", PhotoMaxSide, PhotoMaxPixels / PhotoMaxSide, ""},
		{"the smallest accepted square", PhotoMinSide, PhotoMinSide, ""},
		{"a side over the limit", PhotoMaxSide + 1, 100, EIMAGEDIMENSIONS},
		{"20,000 × 20,000 (a decompression bomb)", 20000, 20000, EIMAGEDIMENSIONS},
		{"sides in limit but too many pixels", 8000, 8000, EIMAGEDIMENSIONS},
		{"a thumbnail too small to show", 63, 400, EIMAGETOOSMALL},
		{"zero pixels", 0, 0, EIMAGETOOSMALL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPhotoDimensions(tt.width, tt.height)
			if got := ErrorCode(err); got != tt.want {
				t.Fatalf("CheckPhotoDimensions(%d, %d) = %q (%v), want %q", tt.width, tt.height, got, err, tt.want)
			}
		})
	}
}

func TestPhotoURLRoundTrips(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	for _, size := range PhotoSizes() {
		url := PhotoURL(hash, size)
		name := url[strings.LastIndex(url, "/")+1:]
		h, s, ok := ParsePhotoFile(name)
		if !ok || h != hash || s != size {
			t.Fatalf("ParsePhotoFile(%q) = %q, %d, %v", name, h, s, ok)
		}
	}
}

func TestParsePhotoFileRefuses(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	for _, name := range []string{
		hash + "-100.jpg",                  // not a rendition size
		hash + "-0320.jpg",                 // leading zero: one URL per file
		strings.ToUpper(hash) + "-320.jpg", // hashes are lowercase
		hash[:63] + "-320.jpg",             // short hash
		hash + "-320.png",                  // every rendition is a JPEG
		hash + "-320.jpg/x",
		"../" + hash + "-320.jpg",
		"",
	} {
		if h, s, ok := ParsePhotoFile(name); ok {
			t.Errorf("ParsePhotoFile(%q) accepted: %q, %d", name, h, s)
		}
	}
}
