package hub

import (
	"bytes"
	"context"
	"net"
	nethttp "net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestUnsolicitedPongsCountTowardTheFrameLimit: a pong nobody asked for
// costs the server as much as a ping; a flood of them is closed with 4029
// like any other flood.
func TestUnsolicitedPongsCountTowardTheFrameLimit(t *testing.T) {
	s := startSockHub(t, writeMode{name: "write"}, Options{})
	var raw net.Conn
	opts := &websocket.DialOptions{HTTPClient: &nethttp.Client{Transport: &nethttp.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			raw = c
			return c, err
		}}}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+s.addr+"/ws", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow() //nolint:errcheck
	c := &wsClient{t: t, ws: ws}
	c.expect("welcome")
	// 2,000 masked, empty pong frames (FIN|pong, MASK|0, 4 mask bytes),
	// written under the library: it never sends pongs unasked.
	pong := []byte{0x8A, 0x80, 1, 2, 3, 4}
	if _, err := raw.Write(bytes.Repeat(pong, 2000)); err != nil {
		t.Fatal(err)
	}
	if code := c.closeCode(5 * time.Second); code != StatusTooManyFrames {
		t.Fatalf("close code %d after a pong flood, want %d", code, StatusTooManyFrames)
	}
}
