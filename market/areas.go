package market

// Area is a New York City neighbourhood an instructor may serve. The list
// lives in the database (search_areas), shared by search, GET /api/v1/areas
// and profile validation.
type Area struct {
	Name    string `json:"name"`
	Borough string `json:"borough"`
}
