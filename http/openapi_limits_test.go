package http

import (
	"strings"
	"testing"

	"instainstru/market"
)

// TestOpenAPILimitsAreMarketsLimits: the documented bounds of request
// fields come from the same constants that validation and the store
// enforce (market/limits.go), whether the schema is written by hand or
// generated from validate tags.
func TestOpenAPILimitsAreMarketsLimits(t *testing.T) {
	doc := openAPIDoc(t, newTestServer(t))
	tests := []struct {
		method, path, field, key string
		want                     int
	}{
		{"post", "/api/v1/bookings", "note", "maxLength", market.MaxNoteLen},
		{"post", "/api/v1/bookings", "area", "maxLength", market.MaxAreaLen},
		{"post", "/api/v1/bookings", "address", "maxLength", market.MaxAddressLen},
		{"post", "/api/v1/bookings", "duration_minutes", "minimum", market.MinDurationMinutes},
		{"post", "/api/v1/bookings", "duration_minutes", "maximum", market.MaxDurationMinutes},
		{"post", "/api/v1/bookings/{id}/cancel", "reason", "maxLength", market.MaxNoteLen},
		{"put", "/api/v1/instructors/me", "bio", "maxLength", market.MaxBioLen},
		{"put", "/api/v1/instructors/me", "cancellation_notice_hours", "maximum", market.MaxCancellationNoticeHours},
		{"put", "/api/v1/instructors/me", "areas", "maxItems", market.MaxAreas},
		{"post", "/api/v1/auth/register", "email", "maxLength", market.MaxEmailLen},
		{"post", "/api/v1/auth/register", "full_name", "maxLength", market.MaxFullNameLen},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.field+" "+tt.key, func(t *testing.T) {
			props := requestProperties(t, doc, tt.method, tt.path)
			f, ok := props[tt.field].(map[string]any)
			if !ok {
				t.Fatalf("no field %q in %v", tt.field, props)
			}
			if got, _ := f[tt.key].(float64); int(got) != tt.want {
				t.Errorf("%s = %v, want %d", tt.key, f[tt.key], tt.want)
			}
		})
	}
	// A query parameter written by hand: GET /search?q.
	for _, p := range pathOp(t, doc, "get", "/api/v1/search")["parameters"].([]any) {
		if m := p.(map[string]any); m["name"] == "q" {
			if got := m["schema"].(map[string]any)["maxLength"]; got != float64(market.MaxSearchQueryChars) {
				t.Errorf("search q maxLength = %v, want %d", got, market.MaxSearchQueryChars)
			}
		}
	}
}

func pathOp(t *testing.T, doc map[string]any, method, path string) map[string]any {
	t.Helper()
	op, ok := doc["paths"].(map[string]any)[path].(map[string]any)[method].(map[string]any)
	if !ok {
		t.Fatalf("no %s %s in the document", method, path)
	}
	return op
}

// requestProperties returns the JSON body's properties, following a $ref.
func requestProperties(t *testing.T, doc map[string]any, method, path string) map[string]any {
	t.Helper()
	schema := pathOp(t, doc, method, path)["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
	if ref, ok := schema["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		schema = doc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
	}
	props, ok := schema["properties"].(map[string]any)
	if !ok {
		t.Fatalf("%s %s: body without properties: %v", method, path, schema)
	}
	return props
}
