package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// The neighbourhoods instructors serve are the search_areas table
// (migration 00004: neighbourhood → borough, with aliases): search maps a
// query's places through it, GET /areas lists it, and a profile may only
// name its areas, so every spelling on a listing is one that search finds.

// boroughOrder is the order the page lists boroughs in (the table's CHECK
// allows exactly these).
const boroughOrder = `ARRAY['Manhattan', 'Brooklyn', 'Queens', 'Bronx', 'Staten Island', 'New Jersey']`

// Areas lists every neighbourhood an instructor may serve, grouped by
// borough (in boroughOrder), by name within one.
func (db *DB) Areas(ctx context.Context) ([]market.Area, error) {
	rows, err := db.pool.Query(ctx, `SELECT name, borough FROM search_areas
		ORDER BY array_position(`+boroughOrder+`, borough::text), name`)
	if err != nil {
		return nil, fmt.Errorf("list areas: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[market.Area])
	if err != nil {
		return nil, fmt.Errorf("list areas: %w", err)
	}
	return out, nil
}

// resolveAreas maps names to the areas they name in search_areas, in tx:
// a name matches an area's name or one of its aliases, ignoring case and
// accents ("uws" → "Upper West Side"), and the result is deduplicated in
// order. The matched rows are key-share locked until tx ends, so an area
// cannot disappear between the check and the write that names it. A name
// that matches none is EVALIDATION, keyed "areas[i]" like the API's own
// field errors.
func resolveAreas(ctx context.Context, tx pgx.Tx, names []string) ([]string, error) {
	if len(names) == 0 {
		return []string{}, nil
	}
	rows, err := tx.Query(ctx, `SELECT n.ord, a.name FROM unnest($1::text[]) WITH ORDINALITY AS n(v, ord)
		LEFT JOIN LATERAL (
			SELECT s.name FROM search_areas s
			WHERE search_fold(s.name) = search_fold(n.v)
			   OR search_fold(n.v) IN (SELECT search_fold(x) FROM unnest(s.aliases) x)
			ORDER BY search_fold(s.name) = search_fold(n.v) DESC, s.name
			LIMIT 1 FOR KEY SHARE) a ON true
		ORDER BY n.ord`, names)
	if err != nil {
		return nil, fmt.Errorf("check areas: %w", err)
	}
	var ord int
	var name *string
	out := make([]string, 0, len(names))
	bad := map[string]string{}
	if _, err := pgx.ForEachRow(rows, []any{&ord, &name}, func() error {
		switch {
		case name == nil:
			bad[fmt.Sprintf("areas[%d]", ord-1)] = "not a known neighbourhood; choose one from GET /api/v1/areas"
		case !slices.Contains(out, *name):
			out = append(out, *name)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("check areas: %w", err)
	}
	if len(bad) > 0 {
		return nil, market.ValidationError(bad)
	}
	return out, nil
}
