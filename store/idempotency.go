package store

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"instainstru/market"
)

// storedResponse is the first successful answer given for an idempotency
// key. How it is sent (the HTTP status) is the http layer's business: the
// store keeps only what was created.
type storedResponse struct {
	Body []byte
}

// requestHash fingerprints a request so that reusing a key for a different
// request is detected. Parts are length-prefixed, so no two different part
// lists hash alike.
func requestHash(parts ...string) []byte {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return h.Sum(nil)
}

// The key row is inserted first in the transaction (claimIdempotencyKeySQL).
// When another transaction holds the same key uncommitted, the insert waits
// for it; once it committed, the read that follows (readIdempotencyKeySQL)
// finds its stored response (a replay), or EIDEMPOTENCY when the request
// differs (storedAnswer). If it rolled back, the key is free and this
// transaction claims it. The response is stored (saveIdempotentResponseSQL)
// in the same transaction as the change it describes, so a key never
// outlives a rolled back request and never lacks its answer after a
// committed one.
const (
	claimIdempotencyKeySQL = `INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, key) DO NOTHING`
	readIdempotencyKeySQL = `SELECT request_hash, response_body FROM idempotency_keys
		WHERE user_id = $1 AND key = $2`
	saveIdempotentResponseSQL = `UPDATE idempotency_keys SET response_body = $3
		WHERE user_id = $1 AND key = $2`
)

// storedAnswer is what a key that another transaction committed with
// request hash stored (and body) answers a request hashing to hash: its
// stored response, or EIDEMPOTENCY when the requests differ.
func storedAnswer(stored, hash []byte, body []byte) (*storedResponse, error) {
	if !bytes.Equal(stored, hash) {
		return nil, &market.Error{Code: market.EIDEMPOTENCY,
			Message: "this Idempotency-Key was already used for a different request",
			Details: map[string]any{"idempotency_key": "reused with a different request"}}
	}
	if body == nil {
		// Only possible if a writer stored the key without its response in a
		// committed transaction, which CreateBooking never does.
		return nil, market.Errorf(market.ECONFLICT, "a request with this Idempotency-Key is still in progress")
	}
	return &storedResponse{Body: body}, nil
}

// idempotencyClaim is what the first batch of an idempotent write learns of
// its key: claimed (this request inserted the row and goes on), or the
// earlier request's hash and answer to replay.
type idempotencyClaim struct {
	claimed                bool
	storedHash, storedBody []byte
}

// queue queues the claim and the read of key for userID into b (the first
// statements of the transaction); without a key the request is claimed.
func (ic *idempotencyClaim) queue(b *pgx.Batch, userID, key string, hash []byte) {
	ic.claimed = true
	if key == "" {
		return
	}
	b.Queue(claimIdempotencyKeySQL, userID, key, hash).Exec(func(ct pgconn.CommandTag) error {
		ic.claimed = ct.RowsAffected() == 1
		return nil
	})
	b.Queue(readIdempotencyKeySQL, userID, key).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&ic.storedHash, &ic.storedBody); err != nil {
			return fmt.Errorf("read idempotency key: %w", err)
		}
		return nil
	})
}
