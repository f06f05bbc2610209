package market

// Area is a New York City neighbourhood an instructor may serve.
type Area struct {
	Name    string `json:"name"`
	Borough string `json:"borough"`
}

// Areas is the neighbourhood list the web page offers to instructors (GET
// /api/v1/areas), grouped by borough. Profiles may name other places (the
// API keeps free text up to 64 characters); this list is what the page
// suggests, so that students and instructors use the same spelling.
func Areas() []Area {
	boroughs := []struct {
		name  string
		areas []string
	}{
		{"Manhattan", []string{"Battery Park City", "Chelsea", "Chinatown", "East Harlem", "East Village",
			"Financial District", "Flatiron", "Gramercy", "Greenwich Village", "Harlem", "Hell's Kitchen",
			"Inwood", "Lincoln Square", "Lower East Side", "Midtown", "Midtown East", "Morningside Heights",
			"Murray Hill", "NoHo", "Nolita", "SoHo", "Tribeca", "Upper East Side", "Upper West Side",
			"Washington Heights", "West Village", "Yorkville"}},
		{"Brooklyn", []string{"Bay Ridge", "Bed-Stuy", "Boerum Hill", "Brooklyn Heights", "Bushwick",
			"Carroll Gardens", "Clinton Hill", "Cobble Hill", "Crown Heights", "DUMBO", "Flatbush",
			"Fort Greene", "Greenpoint", "Park Slope", "Prospect Heights", "Red Hook", "Sunset Park",
			"Williamsburg", "Windsor Terrace"}},
		{"Queens", []string{"Astoria", "Bayside", "Elmhurst", "Flushing", "Forest Hills", "Jackson Heights",
			"Long Island City", "Ridgewood", "Sunnyside", "Woodside"}},
		{"The Bronx", []string{"Fordham", "Mott Haven", "Riverdale", "Throgs Neck"}},
		{"Staten Island", []string{"St. George", "Tottenville"}},
		{"New Jersey", []string{"Hoboken", "Jersey City"}},
	}
	var out []Area
	for _, b := range boroughs {
		for _, a := range b.areas {
			out = append(out, Area{Name: a, Borough: b.name})
		}
	}
	return out
}
