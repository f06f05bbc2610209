package hub

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// Hijacker returns what websocket.Accept needs to upgrade over w: an
// http.ResponseWriter that is also an http.Hijacker, whose Hijack hands
// over w itself (so every later write goes through the Wire) and w's
// buffers.
func (w *Wire) Hijacker() http.ResponseWriter {
	return &hijackWriter{conn: w, rw: w.readWriter(), header: http.Header{}}
}

// hijackWriter is the minimal http.ResponseWriter + http.Hijacker that
// coder/websocket.Accept needs over a connection already taken from its
// HTTP server (fasthttp's hijack): it writes the status line and headers
// itself and hands over the Wire with its buffers.
type hijackWriter struct {
	conn   net.Conn
	rw     *bufio.ReadWriter // the connection's buffers (the hub's Wire sizes them)
	header http.Header
	status int
}

func (w *hijackWriter) Header() http.Header { return w.header }

func (w *hijackWriter) WriteHeader(code int) { w.status = code }

// Write is used by Accept only to send an error response before hijacking.
func (w *hijackWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "HTTP/1.1 %d %s\r\n", w.status, http.StatusText(w.status))
	w.header.Set("Content-Length", fmt.Sprint(len(b)))
	w.header.Set("Connection", "close")
	w.header.Write(&sb) //nolint:errcheck
	sb.WriteString("\r\n")
	if _, err := w.conn.Write([]byte(sb.String())); err != nil {
		return 0, err
	}
	return w.conn.Write(b)
}

// Hijack sends the status line and headers Accept prepared (101) and hands
// over the connection.
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "HTTP/1.1 %d %s\r\n", w.status, http.StatusText(w.status))
	w.header.Write(&sb) //nolint:errcheck
	sb.WriteString("\r\n")
	if _, err := w.conn.Write([]byte(sb.String())); err != nil {
		return nil, nil, err
	}
	return w.conn, w.rw, nil
}
