package photo

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"os"
	"testing"

	"instainstru/market"
	"instainstru/photo/phototest"
)

func render(t *testing.T, data []byte) (*market.Photo, error) {
	t.Helper()
	return NewRenderer(1).Render(context.Background(), data)
}

// decodeJPEG decodes a rendition and checks its size.
func decodeJPEG(t *testing.T, data []byte, size int) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("rendition is not a JPEG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
		t.Fatalf("rendition is %v, want %d × %d", b, size, size)
	}
	return img
}

// near says whether c is within 40 of want in each channel (JPEG is lossy).
func near(c color.Color, want color.NRGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(x uint32, y uint8) bool { v := int(x>>8) - int(y); return v > -40 && v < 40 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

func TestRenderStripsEXIFAndGPSAndAppliesOrientation(t *testing.T) {
	in := phototest.JPEGWithEXIF(t)
	if !bytes.Contains(in, []byte("Exif\x00\x00")) || !bytes.Contains(in, []byte(phototest.Secret)) {
		t.Fatal("fixture lost its EXIF segment")
	}
	p, err := render(t, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range [][]byte{p.Small, p.Large} {
		for _, bad := range [][]byte{[]byte("Exif"), {0xFF, 0xE1}, []byte(phototest.Secret), []byte("MM\x00\x2a")} {
			if bytes.Contains(out, bad) {
				t.Errorf("rendition still contains %q", bad)
			}
		}
	}
	// Orientation 6 turns the left (red) half of the stored pixels to the top.
	img := decodeJPEG(t, p.Large, market.PhotoLarge)
	if top, bottom := img.At(160, 40), img.At(160, 280); !near(top, phototest.Red) || !near(bottom, phototest.Blue) {
		t.Fatalf("orientation not applied: top %v, bottom %v", top, bottom)
	}
	decodeJPEG(t, p.Small, market.PhotoSmall)
	if len(p.Hash) != 64 {
		t.Fatalf("hash %q", p.Hash)
	}
}

func TestRenderCropsToACenteredSquare(t *testing.T) {
	// 600 × 200 without orientation: the crop keeps the middle 200 × 200,
	// which is red on the left and blue on the right.
	p, err := render(t, phototest.PNG(t, phototest.HalvesImage(600, 200)))
	if err != nil {
		t.Fatal(err)
	}
	img := decodeJPEG(t, p.Large, market.PhotoLarge)
	if l, r := img.At(40, 160), img.At(280, 160); !near(l, phototest.Red) || !near(r, phototest.Blue) {
		t.Fatalf("not a centered crop: left %v, right %v", l, r)
	}
}

func TestRenderFlattensTransparencyOntoWhite(t *testing.T) {
	clear := image.NewNRGBA(image.Rect(0, 0, 100, 100)) // all transparent black
	p, err := render(t, phototest.PNG(t, clear))
	if err != nil {
		t.Fatal(err)
	}
	if c := decodeJPEG(t, p.Small, market.PhotoSmall).At(48, 48); !near(c, color.NRGBA{R: 255, G: 255, B: 255}) {
		t.Fatalf("transparent pixels became %v, want white", c)
	}
}

func TestRenderWebP(t *testing.T) {
	data, err := os.ReadFile("testdata/video-001.lossy.webp") // golang.org/x/image's test image, 150 × 103
	if err != nil {
		t.Fatal(err)
	}
	p, err := render(t, data)
	if err != nil {
		t.Fatal(err)
	}
	decodeJPEG(t, p.Large, market.PhotoLarge)
}

func TestRenderRefuses(t *testing.T) {
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, image.NewPaletted(image.Rect(0, 0, 100, 100), color.Palette{color.Black, color.White}), nil); err != nil {
		t.Fatal(err)
	}
	good := phototest.PNG(t, phototest.HalvesImage(100, 100))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"text", []byte("definitely not an image"), market.EUNSUPPORTEDIMAGE},
		{"empty", nil, market.EUNSUPPORTEDIMAGE},
		{"GIF (decodable, not accepted)", gifBuf.Bytes(), market.EUNSUPPORTEDIMAGE},
		{"truncated PNG", good[:len(good)/2], market.EUNSUPPORTEDIMAGE},
		{"20,000 × 20,000 PNG", phototest.BombPNG(t, 20000, 20000), market.EIMAGEDIMENSIONS},
		{"tiny PNG", phototest.PNG(t, phototest.HalvesImage(20, 20)), market.EIMAGETOOSMALL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := render(t, tt.data)
			if got := market.ErrorCode(err); got != tt.want {
				t.Fatalf("Render = %v, %v; want code %q", p, err, tt.want)
			}
		})
	}
}

func TestRenderWaitsForASlot(t *testing.T) {
	r := NewRenderer(1)
	r.slots <- struct{}{} // the only slot is busy
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Render(ctx, phototest.PNG(t, phototest.HalvesImage(100, 100))); err == nil || market.ErrorCode(err) != market.EINTERNAL {
		t.Fatalf("Render with no slot and a cancelled context = %v, want the context's error", err)
	}
}

// TestBombPNGIsARealPNG: the generator writes a PNG that decodes (shown at a
// size that is cheap to decode), so the 20,000 × 20,000 refusal is about the
// dimensions, not a broken file.
func TestBombPNGIsARealPNG(t *testing.T) {
	// 1,500 × 1,000 is 188,000 bytes of scanlines: repeated chunks and a
	// final block, as at 20,000 × 20,000.
	for _, size := range [][2]int{{300, 200}, {1500, 1000}} {
		img, format, err := image.Decode(bytes.NewReader(phototest.BombPNG(t, size[0], size[1])))
		if err != nil || format != "png" || img.Bounds().Dx() != size[0] || img.Bounds().Dy() != size[1] {
			t.Fatalf("decode %v = %q, %v", size, format, err)
		}
		if r, _, _, _ := img.At(size[0]-1, size[1]-1).RGBA(); r != 0 {
			t.Fatalf("pixel is %d, want black", r)
		}
	}
	if big := phototest.BombPNG(t, 20000, 20000); len(big) > 200_000 {
		t.Fatalf("the 20,000 × 20,000 PNG is %d bytes, want a small file", len(big))
	}
}
