// Package migrations embeds the SQL schema, applied by goose (store.Migrate).
package migrations

import "embed"

// FS holds the numbered goose migrations.
//
//go:embed *.sql
var FS embed.FS
