-- +goose Up
-- Nicknames and abbreviations of NYC places (docs/features/search.md), as
-- data the search vocabulary loads: each term means the areas and/or whole
-- boroughs in places (names of search_areas rows or their boroughs). A
-- place that is neither is ignored, so a term can name an area before it
-- exists. Terms are matched after folding (lower case, no accents,
-- apostrophes dropped), like every other phrase of the vocabulary.
CREATE TABLE search_place_nicknames (
    term   varchar(64) PRIMARY KEY CHECK (term = lower(term) AND length(btrim(term)) > 0),
    places varchar(64)[] NOT NULL CHECK (cardinality(places) > 0)
);

INSERT INTO search_place_nicknames (term, places) VALUES
    -- boroughs
    ('bk', '{Brooklyn}'),
    ('bklyn', '{Brooklyn}'),
    ('brooklyn ny', '{Brooklyn}'),
    ('bx', '{Bronx}'),
    ('boogie down', '{Bronx}'),
    ('si', '{Staten Island}'),
    ('staten', '{Staten Island}'),
    ('qns', '{Queens}'),
    ('mnhtn', '{Manhattan}'),
    -- Manhattan
    ('les', '{Lower East Side}'),
    ('ues', '{Upper East Side}'),
    ('uws', '{Upper West Side}'),
    ('upper east', '{Upper East Side}'),
    ('upper west', '{Upper West Side}'),
    ('fidi', '{Financial District}'),
    ('the village', '{Greenwich Village}'),
    ('greenwich', '{Greenwich Village}'),
    ('hells kitchen', '{Hell''s Kitchen}'),
    ('hell''s kitchen', '{Hell''s Kitchen}'),
    ('midtown manhattan', '{Midtown}'),
    ('wash heights', '{Washington Heights}'),
    ('uptown', '{Harlem,East Harlem,Morningside Heights,Hamilton Heights,Washington Heights,Inwood}'),
    ('downtown', '{Financial District,Tribeca,Battery Park City,SoHo,Chinatown,Lower East Side}'),
    -- Brooklyn
    ('bed stuy', '{Bed-Stuy}'),
    ('bedstuy', '{Bed-Stuy}'),
    ('wburg', '{Williamsburg}'),
    ('w burg', '{Williamsburg}'),
    ('billyburg', '{Williamsburg}'),
    ('willyburg', '{Williamsburg}'),
    ('the burg', '{Williamsburg}'),
    ('the slope', '{Park Slope}'),
    ('crown hts', '{Crown Heights}'),
    ('ditmas', '{Ditmas Park}'),
    ('plg', '{Prospect Lefferts Gardens}'),
    -- Queens
    ('lic', '{Long Island City}'),
    ('jackson hts', '{Jackson Heights}'),
    ('forest hls', '{Forest Hills}');

-- +goose Down
DROP TABLE search_place_nicknames;
