package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"instainstru/market"
)

func testPhoto(b byte) *market.Photo {
	return &market.Photo{Hash: strings.Repeat(string("0123456789abcdef"[b%16]), 64),
		Small: []byte{0xFF, 0xD8, b, 96}, Large: []byte{0xFF, 0xD8, b, 0x01, 0x40}}
}

func TestPhotoSaveReplaceServeDelete(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, _ := w.instructor("America/New_York")
	other, _ := w.instructor("America/New_York")

	first := testPhoto(1)
	noErr(t, w.db.SavePhoto(ctx, in, first))
	got, err := w.db.PhotoImage(ctx, first.Hash, market.PhotoSmall)
	noErr(t, err)
	if !bytes.Equal(got, first.Small) {
		t.Fatalf("small rendition = %x, want %x", got, first.Small)
	}
	got, err = w.db.PhotoImage(ctx, first.Hash, market.PhotoLarge)
	noErr(t, err)
	if !bytes.Equal(got, first.Large) {
		t.Fatalf("large rendition = %x, want %x", got, first.Large)
	}

	// The same picture for a second instructor: hashes are not unique.
	noErr(t, w.db.SavePhoto(ctx, other, first))
	second := testPhoto(2)
	noErr(t, w.db.SavePhoto(ctx, in, second))
	hashes, err := w.db.PhotoHashes(ctx, []string{in, other, w.user(market.RoleStudent)})
	noErr(t, err)
	if len(hashes) != 2 || hashes[in] != second.Hash || hashes[other] != first.Hash {
		t.Fatalf("hashes = %v", hashes)
	}

	noErr(t, w.db.DeletePhoto(ctx, in))
	noErr(t, w.db.DeletePhoto(ctx, in)) // again: nothing to remove is fine
	if _, err := w.db.PhotoImage(ctx, second.Hash, market.PhotoLarge); market.ErrorCode(err) != market.ENOTFOUND {
		t.Fatalf("deleted photo served: %v", err)
	}
	if hashes, err = w.db.PhotoHashes(ctx, []string{in}); err != nil || len(hashes) != 0 {
		t.Fatalf("hashes after delete = %v, %v", hashes, err)
	}
}

func TestPhotoOnlyForLiveInstructors(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	student := w.user(market.RoleStudent)
	if err := w.db.SavePhoto(ctx, student, testPhoto(3)); market.ErrorCode(err) != market.ENOTFOUND {
		t.Fatalf("a student's photo: %v, want not_found", err)
	}
	in, _ := w.instructor("America/New_York")
	_, err := w.db.DeleteAccount(ctx, market.AccountDeletion{UserID: in, Actor: w.actor(in), Now: time.Now})
	noErr(t, err)
	if err := w.db.SavePhoto(ctx, in, testPhoto(3)); market.ErrorCode(err) != market.ENOTFOUND {
		t.Fatalf("a deleted instructor's photo: %v, want not_found", err)
	}
}

func TestPhotoInExportAndGoneWithTheAccount(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, _ := w.instructor("America/New_York")
	p := testPhoto(4)
	noErr(t, w.db.SavePhoto(ctx, in, p))

	var buf bytes.Buffer
	noErr(t, w.db.ExportUser(ctx, in, time.Now(), &buf))
	var doc struct {
		Photo *struct {
			URL      string `json:"url"`
			SmallURL string `json:"small_url"`
		} `json:"photo"`
	}
	noErr(t, json.Unmarshal(buf.Bytes(), &doc))
	if doc.Photo == nil || doc.Photo.URL != market.PhotoURL(p.Hash, market.PhotoLarge) ||
		doc.Photo.SmallURL != market.PhotoURL(p.Hash, market.PhotoSmall) {
		t.Fatalf("export photo = %+v", doc.Photo)
	}

	_, err := w.db.DeleteAccount(ctx, market.AccountDeletion{UserID: in, Actor: w.actor(in), Now: time.Now})
	noErr(t, err)
	if _, err := w.db.PhotoImage(ctx, p.Hash, market.PhotoSmall); market.ErrorCode(err) != market.ENOTFOUND {
		t.Fatalf("a deleted account's photo is still served: %v", err)
	}
}
