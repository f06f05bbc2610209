package market

// ServiceFilter narrows Services; empty fields match everything. Category
// matches a category id or slug; Query is a case-insensitive substring of
// the name or description.
type ServiceFilter struct {
	Category string
	Query    string
}
