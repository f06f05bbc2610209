package store

import (
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
)

// Unavailable reports whether err means Postgres could not serve the
// request rather than refusing it: the connection was refused, lost or
// timed out, or the server is shutting down, restarting or not yet
// accepting (SQLSTATE class 08, 57P01 admin_shutdown, 57P02
// crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections).
// These are 503 with Retry-After, never 500: the http package asks this
// one function, and translate turns them into market.EUNAVAILABLE.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", "53300":
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08")
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.Timeout(err) ||
		// "conn closed" / "conn busy" and failures before anything was sent
		pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		// the node's own pool is closing (shutdown)
		errors.Is(err, puddle.ErrClosedPool)
}
