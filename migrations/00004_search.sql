-- +goose Up
-- Natural-language search (issue 12). The query is parsed in Go against a
-- vocabulary read from these tables (services, synonyms, areas); ranking and
-- text relevance run here, with full-text search over bios and trigram
-- similarity over names.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- search_fold is lower(unaccent(x)) declared IMMUTABLE (unaccent itself is
-- only STABLE because its dictionary could change), so it can back indexes.
-- The dictionary is named with its schema so the result never depends on
-- search_path.
-- +goose StatementBegin
CREATE FUNCTION search_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;
-- +goose StatementEnd

-- NYC areas as instructors name them, with the borough they lie in, so a
-- query naming a borough finds instructors who list its neighbourhoods.
-- aliases are other ways people write the same area (UWS, LIC, Bed Stuy).
CREATE TABLE search_areas (
    name    varchar(64) PRIMARY KEY,
    borough varchar(32) NOT NULL CHECK (borough IN
        ('Manhattan', 'Brooklyn', 'Queens', 'Bronx', 'Staten Island', 'New Jersey')),
    aliases varchar(64)[] NOT NULL DEFAULT '{}'
);

INSERT INTO search_areas (name, borough, aliases) VALUES
    -- Manhattan
    ('Upper West Side', 'Manhattan', '{UWS}'),
    ('Upper East Side', 'Manhattan', '{UES}'),
    ('Yorkville', 'Manhattan', '{}'),
    ('Lincoln Square', 'Manhattan', '{Lincoln Center}'),
    ('Harlem', 'Manhattan', '{Central Harlem}'),
    ('East Harlem', 'Manhattan', '{Spanish Harlem,El Barrio}'),
    ('Morningside Heights', 'Manhattan', '{Morningside}'),
    ('Washington Heights', 'Manhattan', '{WaHi}'),
    ('Inwood', 'Manhattan', '{}'),
    ('Hamilton Heights', 'Manhattan', '{}'),
    ('Midtown', 'Manhattan', '{Midtown West,Times Square}'),
    ('Midtown East', 'Manhattan', '{Turtle Bay,Sutton Place}'),
    ('Murray Hill', 'Manhattan', '{Kips Bay}'),
    ('Hell''s Kitchen', 'Manhattan', '{Hells Kitchen,Clinton}'),
    ('Chelsea', 'Manhattan', '{}'),
    ('Flatiron', 'Manhattan', '{Flatiron District,NoMad}'),
    ('Gramercy', 'Manhattan', '{Gramercy Park}'),
    ('Union Square', 'Manhattan', '{}'),
    ('Greenwich Village', 'Manhattan', '{The Village,Washington Square}'),
    ('West Village', 'Manhattan', '{}'),
    ('East Village', 'Manhattan', '{Alphabet City}'),
    ('Lower East Side', 'Manhattan', '{LES}'),
    ('SoHo', 'Manhattan', '{}'),
    ('NoHo', 'Manhattan', '{}'),
    ('Nolita', 'Manhattan', '{Little Italy}'),
    ('Chinatown', 'Manhattan', '{}'),
    ('Tribeca', 'Manhattan', '{}'),
    ('Financial District', 'Manhattan', '{FiDi,Wall Street}'),
    ('Battery Park City', 'Manhattan', '{}'),
    ('Roosevelt Island', 'Manhattan', '{}'),
    -- Brooklyn
    ('Williamsburg', 'Brooklyn', '{}'),
    ('Greenpoint', 'Brooklyn', '{}'),
    ('Bushwick', 'Brooklyn', '{}'),
    ('Bed-Stuy', 'Brooklyn', '{Bed Stuy,Bedford-Stuyvesant,Bedford Stuyvesant}'),
    ('Park Slope', 'Brooklyn', '{}'),
    ('Prospect Heights', 'Brooklyn', '{}'),
    ('Crown Heights', 'Brooklyn', '{}'),
    ('Fort Greene', 'Brooklyn', '{}'),
    ('Clinton Hill', 'Brooklyn', '{}'),
    ('Brooklyn Heights', 'Brooklyn', '{}'),
    ('DUMBO', 'Brooklyn', '{}'),
    ('Downtown Brooklyn', 'Brooklyn', '{}'),
    ('Cobble Hill', 'Brooklyn', '{}'),
    ('Carroll Gardens', 'Brooklyn', '{}'),
    ('Boerum Hill', 'Brooklyn', '{}'),
    ('Red Hook', 'Brooklyn', '{}'),
    ('Gowanus', 'Brooklyn', '{}'),
    ('Windsor Terrace', 'Brooklyn', '{}'),
    ('Prospect Lefferts Gardens', 'Brooklyn', '{PLG}'),
    ('Flatbush', 'Brooklyn', '{}'),
    ('Ditmas Park', 'Brooklyn', '{}'),
    ('Kensington', 'Brooklyn', '{}'),
    ('Sunset Park', 'Brooklyn', '{}'),
    ('Bay Ridge', 'Brooklyn', '{}'),
    ('Dyker Heights', 'Brooklyn', '{}'),
    ('Bensonhurst', 'Brooklyn', '{}'),
    ('Borough Park', 'Brooklyn', '{}'),
    ('Sheepshead Bay', 'Brooklyn', '{}'),
    ('Brighton Beach', 'Brooklyn', '{}'),
    ('Coney Island', 'Brooklyn', '{}'),
    ('East New York', 'Brooklyn', '{}'),
    -- Queens
    ('Astoria', 'Queens', '{}'),
    ('Long Island City', 'Queens', '{LIC}'),
    ('Sunnyside', 'Queens', '{}'),
    ('Woodside', 'Queens', '{}'),
    ('Jackson Heights', 'Queens', '{}'),
    ('Elmhurst', 'Queens', '{}'),
    ('Corona', 'Queens', '{}'),
    ('Flushing', 'Queens', '{}'),
    ('Bayside', 'Queens', '{}'),
    ('Forest Hills', 'Queens', '{}'),
    ('Rego Park', 'Queens', '{}'),
    ('Kew Gardens', 'Queens', '{}'),
    ('Ridgewood', 'Queens', '{}'),
    ('Maspeth', 'Queens', '{}'),
    ('Jamaica', 'Queens', '{}'),
    ('Rockaway', 'Queens', '{Rockaway Beach,Far Rockaway}'),
    ('Whitestone', 'Queens', '{}'),
    -- Bronx
    ('Riverdale', 'Bronx', '{}'),
    ('Kingsbridge', 'Bronx', '{}'),
    ('Fordham', 'Bronx', '{}'),
    ('Mott Haven', 'Bronx', '{}'),
    ('South Bronx', 'Bronx', '{}'),
    ('Pelham Bay', 'Bronx', '{}'),
    ('Throgs Neck', 'Bronx', '{}'),
    ('Morris Park', 'Bronx', '{}'),
    ('Belmont', 'Bronx', '{Arthur Avenue}'),
    -- Staten Island
    ('St. George', 'Staten Island', '{St George,Saint George}'),
    ('Tottenville', 'Staten Island', '{}'),
    ('Great Kills', 'Staten Island', '{}'),
    ('New Dorp', 'Staten Island', '{}'),
    -- across the river, listed by some instructors
    ('Jersey City', 'New Jersey', '{JC}'),
    ('Hoboken', 'New Jersey', '{}');

-- Common words and abbreviations for catalog services. service_slug is not
-- a foreign key: the catalog is seeded after migrations run, and a synonym
-- of a service that does not exist simply matches nothing.
CREATE TABLE search_synonyms (
    term         varchar(64) NOT NULL CHECK (term = lower(term) AND length(btrim(term)) > 0),
    service_slug varchar(120) NOT NULL,
    PRIMARY KEY (term, service_slug)
);

INSERT INTO search_synonyms (term, service_slug)
SELECT t.term, s.slug
FROM (VALUES
    ('guitar', '{acoustic-guitar,electric-guitar,jazz-guitar,classical-guitar,bass-guitar}'),
    ('guitars', '{acoustic-guitar,electric-guitar,jazz-guitar,classical-guitar,bass-guitar}'),
    ('bass', '{bass-guitar,double-bass}'),
    ('upright bass', '{double-bass}'),
    ('keyboard', '{piano}'),
    ('keys', '{piano}'),
    ('fiddle', '{violin}'),
    ('singing', '{voice-and-singing,classical-voice}'),
    ('voice', '{voice-and-singing,classical-voice}'),
    ('vocal', '{voice-and-singing,classical-voice}'),
    ('vocals', '{voice-and-singing,classical-voice}'),
    ('vocal coach', '{voice-and-singing}'),
    ('opera', '{classical-voice}'),
    ('sax', '{saxophone}'),
    ('uke', '{ukulele}'),
    ('drum', '{drums}'),
    ('drumming', '{drums}'),
    ('percussion', '{drums}'),
    ('dj', '{djing}'),
    ('beat making', '{music-production}'),
    ('producing', '{music-production}'),
    ('ableton', '{music-production}'),
    ('logic pro', '{music-production}'),
    ('spanish', '{conversational-spanish,spanish-grammar,business-spanish}'),
    ('espanol', '{conversational-spanish,spanish-grammar,business-spanish}'),
    ('mandarin', '{mandarin-chinese}'),
    ('chinese', '{mandarin-chinese,cantonese}'),
    ('hsk', '{mandarin-chinese}'),
    ('jlpt', '{japanese}'),
    ('asl', '{american-sign-language}'),
    ('sign language', '{american-sign-language}'),
    ('esl', '{english-as-a-second-language}'),
    ('english', '{english-as-a-second-language,business-english,accent-reduction}'),
    ('math', '{elementary-math,pre-algebra,algebra-i,algebra-ii,geometry,trigonometry,precalculus,calculus,statistics,sat-math,act-math}'),
    ('maths', '{elementary-math,pre-algebra,algebra-i,algebra-ii,geometry,trigonometry,precalculus,calculus,statistics,sat-math,act-math}'),
    ('algebra', '{pre-algebra,algebra-i,algebra-ii,nys-regents-algebra}'),
    ('algebra 1', '{algebra-i}'),
    ('algebra 2', '{algebra-ii}'),
    ('precalc', '{precalculus}'),
    ('pre calc', '{precalculus}'),
    ('calc', '{calculus,ap-calculus-ab,ap-calculus-bc}'),
    ('stats', '{statistics,ap-statistics}'),
    ('chem', '{chemistry,ap-chemistry,organic-chemistry}'),
    ('orgo', '{organic-chemistry}'),
    ('o chem', '{organic-chemistry}'),
    ('ochem', '{organic-chemistry}'),
    ('bio', '{biology,ap-biology,nys-regents-living-environment}'),
    ('physics', '{physics,ap-physics-1}'),
    ('history', '{us-history,world-history,ap-us-history}'),
    ('apush', '{ap-us-history}'),
    ('econ', '{economics}'),
    ('reading', '{elementary-reading,reading-comprehension}'),
    ('phonics', '{elementary-reading}'),
    ('writing', '{essay-writing,creative-writing,college-admissions-essays}'),
    ('essay', '{essay-writing,college-admissions-essays}'),
    ('essays', '{essay-writing,college-admissions-essays}'),
    ('college essay', '{college-admissions-essays}'),
    ('college essays', '{college-admissions-essays}'),
    ('common app', '{college-admissions-essays}'),
    ('homework', '{homework-help}'),
    ('sat', '{sat-math,sat-reading-and-writing}'),
    ('act', '{act-math,act-english,act-science}'),
    ('shsat', '{shsat}'),
    ('specialized high school', '{shsat}'),
    ('gmat', '{gmat}'),
    ('gre', '{gre}'),
    ('lsat', '{lsat}'),
    ('mcat', '{mcat}'),
    ('regents', '{nys-regents-algebra,nys-regents-living-environment}'),
    ('test prep', '{sat-math,sat-reading-and-writing,act-math,act-english,act-science,psat,shsat,isee,ssat,gre,gmat,lsat,mcat}'),
    ('ap chem', '{ap-chemistry}'),
    ('ap bio', '{ap-biology}'),
    ('ap calc', '{ap-calculus-ab,ap-calculus-bc}'),
    ('ap stats', '{ap-statistics}'),
    ('trainer', '{personal-training,strength-training,functional-training}'),
    ('personal trainer', '{personal-training}'),
    ('pt', '{personal-training}'),
    ('workout', '{personal-training,hiit,strength-training,functional-training}'),
    ('fitness', '{personal-training,strength-training,hiit,functional-training}'),
    ('weights', '{strength-training,powerlifting,olympic-weightlifting}'),
    ('weightlifting', '{strength-training,olympic-weightlifting,powerlifting}'),
    ('lifting', '{strength-training,olympic-weightlifting,powerlifting}'),
    ('strength', '{strength-training}'),
    ('running', '{running-coaching,marathon-training}'),
    ('running coach', '{running-coaching}'),
    ('marathon', '{marathon-training}'),
    ('track', '{sprinting}'),
    ('sprint', '{sprinting}'),
    ('bjj', '{brazilian-jiu-jitsu}'),
    ('jiu jitsu', '{brazilian-jiu-jitsu}'),
    ('jiujitsu', '{brazilian-jiu-jitsu}'),
    ('jujitsu', '{brazilian-jiu-jitsu}'),
    ('grappling', '{brazilian-jiu-jitsu}'),
    ('martial arts', '{brazilian-jiu-jitsu,krav-maga,muay-thai,kickboxing,self-defense}'),
    ('mma', '{brazilian-jiu-jitsu,muay-thai,boxing,kickboxing}'),
    ('self defence', '{self-defense,krav-maga}'),
    ('pilates', '{mat-pilates}'),
    ('stretching', '{mobility-and-stretching}'),
    ('flexibility', '{mobility-and-stretching}'),
    ('yoga', '{vinyasa-yoga,hatha-yoga,yin-yoga,prenatal-yoga,kids-yoga}'),
    ('pregnancy', '{prenatal-yoga,postnatal-fitness}'),
    ('meditate', '{meditation,mindfulness}'),
    ('ballroom dancing', '{ballroom,latin-ballroom}'),
    ('tango', '{argentine-tango}'),
    ('swing', '{swing-dance,lindy-hop}'),
    ('hiphop', '{hip-hop}'),
    ('breakdancing', '{breaking}'),
    ('breakdance', '{breaking}'),
    ('first dance', '{wedding-first-dance}'),
    ('wedding', '{wedding-first-dance}'),
    ('painting', '{watercolor,oil-painting,acrylic-painting,portrait-painting}'),
    ('paint', '{watercolor,oil-painting,acrylic-painting,portrait-painting}'),
    ('sketching', '{drawing,urban-sketching,figure-drawing}'),
    ('art', '{drawing,watercolor,oil-painting,acrylic-painting,urban-sketching}'),
    ('pottery', '{pottery-wheel-throwing,hand-building-ceramics}'),
    ('ceramics', '{pottery-wheel-throwing,hand-building-ceramics}'),
    ('clay', '{pottery-wheel-throwing,hand-building-ceramics}'),
    ('photo', '{digital-photography,film-photography,street-photography}'),
    ('photography', '{digital-photography,film-photography,street-photography}'),
    ('camera', '{digital-photography}'),
    ('photoshop', '{adobe-photoshop}'),
    ('figma', '{ui-design-with-figma}'),
    ('ux', '{ui-design-with-figma}'),
    ('ui', '{ui-design-with-figma}'),
    ('coding', '{python-for-beginners,javascript,html-and-css,scratch-for-kids,coding-interview-prep}'),
    ('programming', '{python-for-beginners,javascript,java,cpp-programming,go-programming}'),
    ('code', '{python-for-beginners,javascript,html-and-css,scratch-for-kids}'),
    ('python', '{python-for-beginners,data-analysis-with-python}'),
    ('js', '{javascript}'),
    ('golang', '{go-programming}'),
    ('c++', '{cpp-programming}'),
    ('cpp', '{cpp-programming}'),
    ('web development', '{html-and-css,javascript,react}'),
    ('web design', '{html-and-css,ui-design-with-figma}'),
    ('data science', '{data-analysis-with-python,machine-learning}'),
    ('pandas', '{data-analysis-with-python}'),
    ('ml', '{machine-learning}'),
    ('ai', '{machine-learning}'),
    ('leetcode', '{coding-interview-prep}'),
    ('interview', '{coding-interview-prep,interview-coaching}'),
    ('excel', '{excel-and-spreadsheets}'),
    ('git', '{git-and-github}'),
    ('github', '{git-and-github}'),
    ('baking', '{bread-baking,sourdough,pastry,cake-decorating,macarons}'),
    ('bread', '{bread-baking,sourdough}'),
    ('pasta', '{fresh-pasta,italian-cooking}'),
    ('sushi', '{sushi-making}'),
    ('dumpling', '{dumplings}'),
    ('croissants', '{pastry}'),
    ('cocktails', '{cocktail-mixology}'),
    ('bartending', '{cocktail-mixology}'),
    ('wine', '{wine-tasting}'),
    ('latte art', '{coffee-and-latte-art}'),
    ('barista', '{coffee-and-latte-art}'),
    ('chef', '{knife-skills,italian-cooking,french-cooking,pastry}'),
    ('hoops', '{basketball-skills}'),
    ('basketball', '{basketball-skills}'),
    ('soccer', '{soccer-skills}'),
    ('football', '{soccer-skills}'),
    ('baseball', '{baseball-hitting}'),
    ('softball', '{softball-pitching}'),
    ('skating', '{ice-skating,figure-skating}'),
    ('hockey', '{ice-hockey}'),
    ('climbing', '{rock-climbing}'),
    ('bouldering', '{rock-climbing}'),
    ('ping pong', '{table-tennis}'),
    ('swim', '{swimming}'),
    ('bike', '{learn-to-ride-a-bike}'),
    ('biking', '{learn-to-ride-a-bike}'),
    ('cycling', '{learn-to-ride-a-bike}'),
    ('speech', '{public-speaking,accent-reduction}'),
    ('presentation', '{public-speaking}'),
    ('acting', '{acting-for-camera,improv-comedy}'),
    ('audition', '{acting-for-camera,voice-and-singing}'),
    ('improv', '{improv-comedy}'),
    ('resume', '{resume-writing}'),
    ('finance', '{personal-finance}'),
    ('budgeting', '{personal-finance}')
) AS t(term, slugs), unnest(t.slugs::text[]) AS s(slug);

-- Full-text document of a profile's bio (English stemming: "kids" finds
-- "kid", "beginners" finds "beginner"), maintained by Postgres itself.
ALTER TABLE instructor_profiles
    ADD COLUMN search_doc tsvector GENERATED ALWAYS AS (to_tsvector('english', bio)) STORED;
CREATE INDEX instructor_profiles_search_doc ON instructor_profiles USING gin (search_doc);

-- A signed-in user's recent searches: one row per normalized query, so a
-- repeat moves the row to the top instead of adding another.
CREATE TABLE search_history (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    query        varchar(200) NOT NULL CHECK (length(btrim(query)) > 0),
    normalized   varchar(200) NOT NULL CHECK (length(normalized) > 0),
    searched_at  timestamptz NOT NULL DEFAULT now(),
    result_count int NOT NULL CHECK (result_count >= 0),
    CONSTRAINT search_history_user_query_key UNIQUE (user_id, normalized)
);
CREATE INDEX search_history_user_recent ON search_history (user_id, searched_at DESC, id DESC);
CREATE INDEX search_history_searched_at ON search_history (searched_at);

-- Every search (anonymous ones too), with no reference to who searched and
-- not the text: operators count searches and zero-result searches per day
-- and see which services people look for.
CREATE TABLE search_log (
    id          bigserial PRIMARY KEY,
    searched_at timestamptz NOT NULL DEFAULT now(),
    result_count int NOT NULL CHECK (result_count >= 0),
    service_ids uuid[] NOT NULL DEFAULT '{}'
);
CREATE INDEX search_log_searched_at ON search_log (searched_at);

-- +goose Down
DROP TABLE search_log;
DROP TABLE search_history;
DROP INDEX instructor_profiles_search_doc;
ALTER TABLE instructor_profiles DROP COLUMN search_doc;
DROP TABLE search_synonyms;
DROP TABLE search_areas;
DROP FUNCTION search_fold(text);
DROP EXTENSION IF EXISTS unaccent;
DROP EXTENSION IF EXISTS pg_trgm;
