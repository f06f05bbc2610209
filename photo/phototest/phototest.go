// Package phototest builds the images that photo tests upload: a real PNG
// that declares huge dimensions in a small file (a decompression bomb), and
// a JPEG that carries an EXIF segment with GPS coordinates and an
// orientation. Everything is generated, nothing is checked in.
package phototest

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// Secret is the text hidden in the EXIF of JPEGWithEXIF (as the image
// description): a rendition must never contain it.
const Secret = "home-of-the-instructor-40.7128N"

// BombPNG returns a valid, fully decodable 1-bit grayscale PNG of w × h
// black pixels: a small file (about 60 KB at 20,000 × 20,000) whose decoded
// image would take w*h bytes at least.
//
// Its raw scanlines (filter byte 0, then w bits of 0 a row) are nothing but
// zero bytes, so the zlib stream is built without compressing 50 MB: one
// chunk of zeros is deflated once (ending on a sync flush) and repeated, and
// a final block holds the rest. Repeating is valid because every
// back-reference in a chunk points at zeros whichever copy it lands in; the
// Adler-32 of n zeros is (n mod 65521) << 16 | 1.
func BombPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	n := h * (1 + (w+7)/8)
	const chunk = 64 << 10
	var idat bytes.Buffer
	idat.Write([]byte{0x78, 0xDA}) // zlib header: deflate, 32 KB window, best compression
	if n >= chunk {
		block := deflateZeros(t, chunk, false)
		for range n / chunk {
			idat.Write(block)
		}
	}
	idat.Write(deflateZeros(t, n%chunk, true))
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], uint32(n%65521)<<16|1)
	idat.Write(sum[:])

	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 1, 0 // bit depth 1, color type 0 (grayscale)
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	writeChunk(&out, "IHDR", ihdr)
	writeChunk(&out, "IDAT", idat.Bytes())
	writeChunk(&out, "IEND", nil)
	return out.Bytes()
}

// deflateZeros is raw deflate data for n zero bytes: ending on a sync flush
// (byte-aligned, not final) or, when final, closing the stream.
func deflateZeros(t testing.TB, n int, final bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	if final {
		err = fw.Close()
	} else {
		err = fw.Flush()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeChunk(out *bytes.Buffer, kind string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	out.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(kind))
	crc.Write(data)
	out.WriteString(kind)
	out.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	out.Write(n[:])
}

// Red and Blue are the halves of HalvesImage.
var (
	Red  = color.NRGBA{R: 220, A: 255}
	Blue = color.NRGBA{B: 220, A: 255}
)

// HalvesImage is w × h pixels, its left half Red and its right half Blue.
func HalvesImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := Red
			if x >= w/2 {
				c = Blue
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// PNG encodes img as a PNG.
func PNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// JPEGWithEXIF is a 400 × 200 JPEG of HalvesImage with an APP1 Exif segment
// right after SOI: orientation 6 (display rotated 90° clockwise, so the red
// half is on top), the image description Secret, and a GPS IFD with
// latitude N 40° 42' 46.14".
func JPEGWithEXIF(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, HalvesImage(400, 200), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	plain := buf.Bytes()
	tiff := exifTIFF()
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+6+len(tiff)))
	seg = append(seg, "Exif\x00\x00"...)
	seg = append(seg, tiff...)
	out := append([]byte{}, plain[:2]...) // SOI
	out = append(out, seg...)
	return append(out, plain[2:]...)
}

// exifTIFF is a big-endian TIFF structure: IFD0 (orientation, description,
// GPS pointer) and a GPS IFD (latitude ref and latitude).
func exifTIFF() []byte {
	be := binary.BigEndian
	desc := append([]byte(Secret), 0)
	const ifd0 = 8
	descAt := ifd0 + 2 + 3*12 + 4
	gpsAt := descAt + len(desc)
	ratAt := gpsAt + 2 + 2*12 + 4
	b := make([]byte, ratAt+24)
	copy(b, "MM\x00\x2a")
	be.PutUint32(b[4:], ifd0)
	entry := func(at int, tag, typ uint16, count, value uint32) {
		be.PutUint16(b[at:], tag)
		be.PutUint16(b[at+2:], typ)
		be.PutUint32(b[at+4:], count)
		be.PutUint32(b[at+8:], value)
	}
	be.PutUint16(b[ifd0:], 3)
	entry(ifd0+2, 0x010E, 2, uint32(len(desc)), uint32(descAt)) // ImageDescription
	entry(ifd0+14, 0x0112, 3, 1, 6<<16)                         // Orientation = 6 (SHORT, left-justified)
	entry(ifd0+26, 0x8825, 4, 1, uint32(gpsAt))                 // GPSInfo IFD pointer
	copy(b[descAt:], desc)
	be.PutUint16(b[gpsAt:], 2)
	entry(gpsAt+2, 0x0001, 2, 2, uint32('N')<<24) // GPSLatitudeRef "N"
	entry(gpsAt+14, 0x0002, 5, 3, uint32(ratAt))  // GPSLatitude, 3 rationals
	for i, r := range [][2]uint32{{40, 1}, {42, 1}, {4614, 100}} {
		be.PutUint32(b[ratAt+8*i:], r[0])
		be.PutUint32(b[ratAt+8*i+4:], r[1])
	}
	return b
}
