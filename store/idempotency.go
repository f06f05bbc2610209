package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/jackc/pgx/v5"

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

// claimIdempotencyKey inserts the key row first thing in the transaction.
// When another transaction holds the same key uncommitted, the insert waits
// for it; once it committed, this returns its stored response (a replay), or
// EIDEMPOTENCY when the request differs. If it rolled back, the key is free
// and this transaction claims it. nil, nil means "claimed: go ahead".
func claimIdempotencyKey(ctx context.Context, tx pgx.Tx, userID, key string, hash []byte) (*storedResponse, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, key) DO NOTHING`, userID, key, hash)
	if err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil, nil
	}
	var stored []byte
	var body []byte
	err = tx.QueryRow(ctx, `SELECT request_hash, response_body FROM idempotency_keys
		WHERE user_id = $1 AND key = $2`, userID, key).Scan(&stored, &body)
	if err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
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

// saveIdempotentResponse stores the response of a claimed key in the same
// transaction as the change it describes, so a key never outlives a rolled
// back request and never lacks its answer after a committed one.
func saveIdempotentResponse(ctx context.Context, tx pgx.Tx, userID, key string, body []byte) error {
	_, err := tx.Exec(ctx, `UPDATE idempotency_keys SET response_body = $3
		WHERE user_id = $1 AND key = $2`, userID, key, body)
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}
