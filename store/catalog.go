package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// Categories lists all categories in display order.
func (db *DB) Categories(ctx context.Context) ([]market.Category, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, slug, name, description FROM categories ORDER BY sort_order, name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.Category, error) {
		var c market.Category
		err := r.Scan(&c.ID, &c.Slug, &c.Name, &c.Description)
		return c, err
	})
}

// Services lists catalog services matching f, by name.
func (db *DB) Services(ctx context.Context, f market.ServiceFilter) ([]market.Service, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT s.id, s.category_id, s.slug, s.name, s.description,
		       (SELECT count(DISTINCT o.instructor_id) FROM instructor_services o
		        JOIN users u ON u.id = o.instructor_id
		        WHERE o.service_id = s.id AND o.is_active AND `+listedFilter+`)
		FROM services s JOIN categories c ON c.id = s.category_id
		WHERE ($1 = '' OR c.id::text = $1 OR c.slug = $1)
		  AND ($2 = '' OR s.name ILIKE '%' || $3 || '%' ESCAPE '\' OR s.description ILIKE '%' || $3 || '%' ESCAPE '\')
		ORDER BY s.name`, f.Category, f.Query, escapeLike(f.Query))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.Service, error) {
		var s market.Service
		err := r.Scan(&s.ID, &s.CategoryID, &s.Slug, &s.Name, &s.Description, &s.InstructorCount)
		s.Taught = s.InstructorCount > 0
		return s, err
	})
}

// escapeLike makes user text literal inside a LIKE pattern.
func escapeLike(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\\' || r == '%' || r == '_' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}
