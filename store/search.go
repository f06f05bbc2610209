package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"instainstru/market"
	"instainstru/search"
)

// How search works: search.Index parses the query against a
// vocabulary read from the database (services, synonyms, areas, instructor
// names), cached here and reloaded in the background once it is older than
// vocabTTL. One SQL query then selects and scores candidates (service and
// area match, full-text relevance of bios, names), with the user's text only
// ever passed as parameters. Finally next_open is computed for the
// candidates from their windows and bookings (the same open-time rules as
// GET availability) and folded into the score.

// vocabTTL is how stale the cached vocabulary may get: a new instructor or
// catalog service is searchable by name within this long (their offers,
// areas and bios are read live).
const vocabTTL = time.Minute

// Searcher answers search and suggest over the database.
type Searcher struct {
	db *DB

	mu       sync.Mutex
	ix       *search.Index
	loadedAt time.Time
	loading  bool
}

// NewSearcher returns a searcher over db; the vocabulary loads on first use.
func NewSearcher(db *DB) *Searcher { return &Searcher{db: db} }

// Index returns the parsing index: loaded synchronously the first time, then
// refreshed in the background when stale, so no search waits on a reload.
func (s *Searcher) Index(ctx context.Context) (*search.Index, error) {
	s.mu.Lock()
	ix, stale := s.ix, time.Since(s.loadedAt) > vocabTTL
	if ix != nil && stale && !s.loading {
		s.loading = true
		go s.reload(context.WithoutCancel(ctx)) //nolint:errcheck // a failed refresh keeps the old index
	}
	s.mu.Unlock()
	if ix != nil {
		return ix, nil
	}
	return s.reload(ctx)
}

// Reload reads the vocabulary now (tests and callers that just changed the
// catalog use it; it is a handful of small queries).
func (s *Searcher) Reload(ctx context.Context) error {
	_, err := s.reload(ctx)
	return err
}

func (s *Searcher) reload(ctx context.Context) (*search.Index, error) {
	v, err := s.db.LoadSearchVocab(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loading = false
	if err != nil {
		return s.ix, err
	}
	s.ix, s.loadedAt = search.NewIndex(v), time.Now()
	return s.ix, nil
}

// LoadSearchVocab reads what the search parser matches against.
func (db *DB) LoadSearchVocab(ctx context.Context) (search.Vocab, error) {
	v := search.Vocab{Synonyms: map[string][]string{}}
	b := &pgx.Batch{}
	b.Queue(`SELECT s.id, s.slug, s.name, c.name,
		(SELECT count(DISTINCT o.instructor_id) FROM instructor_services o
		 JOIN users u ON u.id = o.instructor_id JOIN instructor_profiles p ON p.user_id = u.id
		 WHERE o.service_id = s.id AND o.is_active AND ` + listedFilter + `)
		FROM services s JOIN categories c ON c.id = s.category_id`)
	b.Queue(`SELECT term, array_agg(service_slug ORDER BY service_slug) FROM search_synonyms GROUP BY term`)
	b.Queue(`SELECT name, borough, aliases FROM search_areas ORDER BY name`)
	b.Queue(`SELECT u.id, u.full_name FROM instructor_profiles p JOIN users u ON u.id = p.user_id
		WHERE ` + listedFilter)
	b.Queue(`SELECT term, places FROM search_place_nicknames`)
	br := db.pool.SendBatch(ctx, b)
	defer br.Close()
	var id, slug, name, cat string
	var taught int
	rows, _ := br.Query()
	if _, err := pgx.ForEachRow(rows, []any{&id, &slug, &name, &cat, &taught}, func() error {
		v.Services = append(v.Services, search.VocabService{ID: id, Slug: slug, Name: name, Category: cat, Instructors: taught})
		return nil
	}); err != nil {
		return v, fmt.Errorf("search vocabulary: services: %w", err)
	}
	var term string
	var list []string
	rows, _ = br.Query()
	if _, err := pgx.ForEachRow(rows, []any{&term, &list}, func() error {
		v.Synonyms[term] = slices.Clone(list)
		return nil
	}); err != nil {
		return v, fmt.Errorf("search vocabulary: synonyms: %w", err)
	}
	var borough string
	rows, _ = br.Query()
	if _, err := pgx.ForEachRow(rows, []any{&name, &borough, &list}, func() error {
		v.Areas = append(v.Areas, search.VocabArea{Name: name, Borough: borough, Aliases: slices.Clone(list)})
		return nil
	}); err != nil {
		return v, fmt.Errorf("search vocabulary: areas: %w", err)
	}
	rows, _ = br.Query()
	if _, err := pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		v.Instructors = append(v.Instructors, search.VocabInstructor{ID: id, FullName: name})
		return nil
	}); err != nil {
		return v, fmt.Errorf("search vocabulary: instructors: %w", err)
	}
	v.Nicknames = map[string][]string{}
	rows, _ = br.Query()
	if _, err := pgx.ForEachRow(rows, []any{&term, &list}, func() error {
		v.Nicknames[term] = slices.Clone(list)
		return nil
	}); err != nil {
		return v, fmt.Errorf("search vocabulary: place nicknames: %w", err)
	}
	return v, br.Close()
}

// Ranking weights of the score's parts. Only the parts the query asks for
// count, and the score is divided by their total, so it stays in 0..1.
const (
	rankService = 0.45
	rankArea    = 0.20
	rankName    = 0.35
	rankText    = 0.15
	rankOpen    = 0.15
)

// Search parses q and returns up to limit instructors, best first. now is
// the clock next_open is computed from. A query that names nothing the
// search understands, and whose words appear in no profile, finds nothing;
// an empty result comes with wider searches that do find someone and the
// most taught services (SearchWith).
func (s *Searcher) Search(ctx context.Context, q string, limit int, now time.Time) (*market.SearchResult, error) {
	return s.SearchWith(ctx, q, market.SearchOptions{Limit: limit}, now)
}

// SearchWith is Search with options: Exact parses without typo
// corrections, NoRelax leaves an empty result without relaxations.
func (s *Searcher) SearchWith(ctx context.Context, q string, o market.SearchOptions, now time.Time) (*market.SearchResult, error) {
	ix, err := s.Index(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.rank(ctx, ix, q, o, now)
	if err != nil || len(res.Items) > 0 || o.NoRelax {
		return res, err
	}
	return res, s.explainEmpty(ctx, ix, res, o, now)
}

// rank parses q and ranks the instructors that match it.
func (s *Searcher) rank(ctx context.Context, ix *search.Index, q string, o market.SearchOptions, now time.Time) (*market.SearchResult, error) {
	limit := o.Limit
	parsed := ix.Parse(q)
	if o.Exact {
		parsed = ix.ParseExact(q)
	}
	res := &market.SearchResult{Query: q, Parsed: parsed, Items: []market.SearchHit{}}
	pq := &res.Parsed
	if pq.Empty() {
		return res, nil
	}
	cands, err := s.db.searchCandidates(ctx, pq, max(limit*5, 50))
	if err != nil {
		return nil, err
	}
	if len(cands) == 0 {
		return res, nil
	}
	if err := s.db.fillNextOpen(ctx, pq, cands, now); err != nil {
		return nil, err
	}
	// A query that only says when ("saturday morning") lists who is open then.
	onlyTime := pq.WantsTime() && len(pq.Services) == 0 && len(pq.Areas) == 0 && len(pq.Instructors) == 0 &&
		len(pq.Words) == 0 && len(pq.Levels) == 0
	horizon := float64(market.SearchHorizonDays)
	for i := range cands {
		c := &cands[i]
		var total, sum float64
		part := func(weight, value float64) { total += weight; sum += weight * value }
		if len(pq.Services) > 0 {
			part(rankService, c.svc)
		}
		if len(pq.Areas) > 0 {
			part(rankArea, c.area)
		}
		if len(pq.Instructors) > 0 {
			part(rankName, c.name)
		}
		if c.textTerms > 0 {
			part(rankText, c.text)
		}
		open := 0.0
		if c.hit.NextOpen != nil {
			// Sooner is better, but any fitting time within the horizon counts.
			open = 1 - 0.5*float64(c.openInDays)/horizon
		}
		part(rankOpen, open)
		c.hit.Score = math.Round(sum/total*1000) / 1000
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.hit.Score != b.hit.Score {
			return a.hit.Score > b.hit.Score
		}
		if a.minRate != b.minRate {
			return a.minRate < b.minRate
		}
		return a.hit.FullName < b.hit.FullName
	})
	for _, c := range cands {
		if len(res.Items) == limit {
			break
		}
		if onlyTime && c.hit.NextOpen == nil {
			continue
		}
		res.Items = append(res.Items, c.hit)
	}
	return res, nil
}

// candidate is one instructor the SQL selected, with the parts of its score.
type candidate struct {
	hit        market.SearchHit
	timezone   string
	svc        float64
	area       float64
	name       float64
	text       float64
	textTerms  int
	minRate    int
	shortest   int
	openInDays int
}

// searchCandidates selects instructors that satisfy the query's hard
// constraints (an offered service the query names, within the price cap and
// offering the asked length; an area the query names; the named instructor
// when no service is named; a text hit when nothing structured was
// understood) and scores how well each matches.
func (db *DB) searchCandidates(ctx context.Context, pq *market.SearchQuery, limit int) ([]candidate, error) {
	svcIDs, svcW := make([]string, 0, len(pq.Services)), make([]float64, 0, len(pq.Services))
	for _, s := range pq.Services {
		svcIDs, svcW = append(svcIDs, s.ID), append(svcW, s.Weight)
	}
	areas, areaW := make([]string, 0, len(pq.Areas)), make([]float64, 0, len(pq.Areas))
	for _, a := range pq.Areas {
		areas, areaW = append(areas, a.Name), append(areaW, a.Weight)
	}
	names, nameW := make([]string, 0, len(pq.Instructors)), make([]float64, 0, len(pq.Instructors))
	for _, n := range pq.Instructors {
		names, nameW = append(names, n.InstructorID), append(nameW, n.Weight)
	}
	// Level words become one OR-group each (fixed words from market, safe
	// for to_tsquery); the user's own words go through plainto_tsquery,
	// which accepts any text.
	var levelQueries []string
	for _, lv := range pq.Levels {
		levelQueries = append(levelQueries, search.LevelTSQuery(lv))
	}
	words := pq.Words
	structured := len(pq.Services) > 0 || len(pq.Areas) > 0 || len(pq.Instructors) > 0 || pq.WantsTime() ||
		pq.MaxPriceCents > 0 || pq.DurationMinutes > 0
	requireText := !structured
	namesOnly := len(names) > 0 && len(svcIDs) == 0
	rows, err := db.pool.Query(ctx, `
		WITH want_area AS (
			SELECT search_fold(t.name) AS name, t.weight FROM unnest($3::text[], $4::float8[]) AS t(name, weight)
		), offers AS (
			SELECT s.instructor_id, s.id, s.service_id, sv.name, s.hourly_rate_cents,
			       COALESCE(ws.weight, 0) AS weight,
			       (SELECT min(d) FROM unnest(s.durations) d) AS shortest
			FROM instructor_services s
			JOIN services sv ON sv.id = s.service_id
			LEFT JOIN unnest($1::uuid[], $2::float8[]) AS ws(service_id, weight) ON ws.service_id = s.service_id
			WHERE s.is_active
			  AND (cardinality($1::uuid[]) = 0 OR ws.service_id IS NOT NULL)
			  AND ($7::int = 0 OR s.hourly_rate_cents <= $7::int)
			  AND ($8::int = 0 OR $8::int = ANY (s.durations))
		), scored AS (
			SELECT p.user_id, u.full_name, p.areas, p.timezone,
			       max(o.weight) AS svc,
			       COALESCE((SELECT max(wa.weight) FROM want_area wa, unnest(p.areas) x
			                 WHERE search_fold(x) = wa.name), 0) AS area,
			       GREATEST(
			           COALESCE((SELECT max(t.weight) FROM unnest($5::uuid[], $6::float8[]) AS t(id, weight)
			                     WHERE t.id = p.user_id), 0),
			           COALESCE((SELECT max(word_similarity(w, search_fold(u.full_name)))
			                     FROM unnest($10::text[]) w WHERE length(w) >= 3
			                     HAVING max(word_similarity(w, search_fold(u.full_name))) >= 0.8), 0) * 0.6
			       ) AS name,
			       (SELECT count(*) FROM unnest($9::text[]) lq WHERE p.search_doc @@ to_tsquery('english', lq))
			       + (SELECT count(*) FROM unnest($10::text[]) w WHERE p.search_doc @@ plainto_tsquery('english', w))
			         AS text_hits,
			       min(o.hourly_rate_cents) AS min_rate,
			       min(o.shortest) AS shortest,
			       array_agg(o.id ORDER BY o.weight DESC, o.name) AS offer_ids,
			       array_agg(o.service_id ORDER BY o.weight DESC, o.name) AS offer_services,
			       array_agg(o.name ORDER BY o.weight DESC, o.name) AS offer_names,
			       array_agg(o.hourly_rate_cents ORDER BY o.weight DESC, o.name) AS offer_rates
			FROM instructor_profiles p
			JOIN users u ON u.id = p.user_id
			JOIN offers o ON o.instructor_id = p.user_id
			WHERE `+listedFilter+`
			  AND (cardinality($3::text[]) = 0 OR EXISTS (
			        SELECT 1 FROM unnest(p.areas) x JOIN want_area wa ON wa.name = search_fold(x)))
			  AND (NOT $11::bool OR p.user_id = ANY ($5::uuid[]))
			GROUP BY p.user_id, u.full_name, p.areas, p.timezone, p.search_doc
		)
		SELECT user_id, full_name, areas, timezone, svc, area, name, text_hits, min_rate, shortest,
		       offer_ids, offer_services, offer_names, offer_rates
		FROM scored
		WHERE NOT $12::bool OR text_hits > 0 OR name > 0
		ORDER BY svc + area + name + text_hits DESC, min_rate, full_name
		LIMIT $13`,
		svcIDs, svcW, areas, areaW, names, nameW, pq.MaxPriceCents, pq.DurationMinutes,
		levelQueries, words, namesOnly, requireText, limit)
	if err != nil {
		return nil, fmt.Errorf("search: %w", translate(err))
	}
	textTerms := len(levelQueries) + len(words)
	var out []candidate
	var (
		c                             candidate
		textHits                      int
		offerIDs, offerSvcs, offerNms []string
		offerRates                    []int32
	)
	_, err = pgx.ForEachRow(rows, []any{&c.hit.InstructorID, &c.hit.FullName, &c.hit.Areas, &c.timezone,
		&c.svc, &c.area, &c.name, &textHits, &c.minRate, &c.shortest,
		&offerIDs, &offerSvcs, &offerNms, &offerRates}, func() error {
		n := c
		n.hit.Areas = slices.Clone(c.hit.Areas)
		if n.hit.Areas == nil {
			n.hit.Areas = []string{}
		}
		n.textTerms = textTerms
		if textTerms > 0 {
			n.text = float64(textHits) / float64(textTerms)
		}
		n.hit.Services = make([]market.SearchOffer, len(offerIDs))
		for i := range offerIDs {
			n.hit.Services[i] = market.SearchOffer{ID: offerIDs[i], ServiceID: offerSvcs[i], Name: offerNms[i],
				HourlyRateCents: int(offerRates[i])}
		}
		out = append(out, n)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("search: %w", translate(err))
	}
	return out, nil
}

// fillNextOpen sets each candidate's next_open: the earliest start, at least
// market.MinNotice from now, on a date the query allows (its days and
// scope, in the instructor's timezone, within SearchHorizonDays) and in its
// part of the day, where a lesson of the asked length (else the shortest
// length the instructor offers for the matching services) fits in open time
// (windows minus time-blocking bookings). One batched read covers every
// candidate.
func (db *DB) fillNextOpen(ctx context.Context, pq *market.SearchQuery, cands []candidate, now time.Time) error {
	ids := make([]string, len(cands))
	for i, c := range cands {
		ids[i] = c.hit.InstructorID
	}
	// Local dates of any zone lie within a day of the UTC date.
	from := localToday(now, time.UTC).AddDate(0, 0, -1)
	to := from.AddDate(0, 0, market.SearchHorizonDays+2)
	sched, err := db.readSchedules(ctx, ids, from, to)
	if err != nil {
		return err
	}
	todFrom, todTo := pq.TimeRange()
	earliest := now.Add(market.MinNotice)
	for i := range cands {
		c := &cands[i]
		loc, err := loadZone(c.timezone)
		if err != nil {
			continue // an unloadable zone shows no next_open rather than failing the search
		}
		length := c.shortest
		if pq.DurationMinutes > 0 {
			length = pq.DurationMinutes
		}
		days := sched[c.hit.InstructorID]
		today := localToday(now, loc)
		for _, date := range pq.Dates(now, loc, market.SearchHorizonDays) {
			ds := days[dateString(date)]
			if ds == nil {
				continue
			}
			slices.SortFunc(ds.spans, func(a, b span) int { return int(a[0] - b[0]) })
			slices.SortFunc(ds.busy, func(a, b span) int { return int(a[0] - b[0]) })
			if start, ok := firstFit(market.Subtract(ds.spans, ds.busy), date, length, todFrom, todTo, earliest, loc); ok {
				c.hit.NextOpen = &market.NextOpen{Date: dateString(date), Start: start.String(), DurationMinutes: length}
				c.openInDays = daysBetween(today, date)
				break
			}
		}
	}
	return nil
}

// firstFit is the earliest 15-minute-aligned start in open whose lesson of
// length minutes fits, that starts in [todFrom, todTo) and not before
// earliest (an instant).
func firstFit(open []span, date time.Time, length int, todFrom, todTo market.Clock, earliest time.Time, loc *time.Location) (market.Clock, bool) {
	for _, iv := range open {
		s := max(iv[0], todFrom)
		if r := s % market.SlotMinutes; r != 0 {
			s += market.SlotMinutes - r
		}
		for ; s < todTo && s+market.Clock(length) <= iv[1]; s += market.SlotMinutes {
			at, err := market.LocalInstant(date, s, loc)
			if err != nil || at.Before(earliest) {
				continue
			}
			return s, true
		}
	}
	return 0, false
}

// readSchedules is readSchedule for many instructors at once (without the
// zone lookup and seq): windows and time-blocking bookings of dates [from, to],
// by instructor and date, read in one round trip.
func (db *DB) readSchedules(ctx context.Context, ids []string, from, to time.Time) (map[string]map[string]*dayState, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT instructor_id, date, start_time, end_time FROM availability_windows
		WHERE instructor_id = ANY ($1::uuid[]) AND date BETWEEN $2 AND $3`, ids, from, to)
	b.Queue(`SELECT b.instructor_id, b.date, b.start_time, lower(b.during), upper(b.during), p.timezone
		FROM bookings b JOIN instructor_profiles p ON p.user_id = b.instructor_id
		WHERE b.instructor_id = ANY ($1::uuid[]) AND `+blocksTimeSQL("b")+` AND b.date BETWEEN $2 AND $3`, ids, from, to)
	br := db.pool.SendBatch(ctx, b)
	defer br.Close()
	out := map[string]map[string]*dayState{}
	get := func(id, d string) *dayState {
		m := out[id]
		if m == nil {
			m = map[string]*dayState{}
			out[id] = m
		}
		s := m[d]
		if s == nil {
			s = &dayState{}
			m[d] = s
		}
		return s
	}
	var (
		id         string
		date       time.Time
		start, end pgtype.Time
	)
	rows, _ := br.Query()
	if _, err := pgx.ForEachRow(rows, []any{&id, &date, &start, &end}, func() error {
		ds := get(id, dateString(date))
		ds.spans = append(ds.spans, span{clockOf(start), clockOf(end)})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("search: read windows: %w", err)
	}
	var startsAt, endsAt time.Time
	var tz string
	rows, _ = br.Query()
	if _, err := pgx.ForEachRow(rows, []any{&id, &date, &start, &startsAt, &endsAt, &tz}, func() error {
		loc, err := loadZone(tz)
		if err != nil {
			return err
		}
		ds := get(id, dateString(date))
		ds.busy = append(ds.busy, busySpan(date, clockOf(start), startsAt, endsAt, loc))
		return nil
	}); err != nil {
		return nil, fmt.Errorf("search: read bookings: %w", err)
	}
	return out, br.Close()
}

// Suggest completes prefix: the caller's recent searches first (when
// userID is set), then services, areas and instructors from the cached
// vocabulary. At most limit items.
func (s *Searcher) Suggest(ctx context.Context, userID, prefix string, limit int) ([]market.Suggestion, error) {
	ix, err := s.Index(ctx)
	if err != nil {
		return nil, err
	}
	out := []market.Suggestion{}
	if userID != "" {
		norm := search.NormalizeQuery(prefix)
		if norm != "" {
			rows, err := s.db.pool.Query(ctx, `SELECT query FROM search_history
				WHERE user_id = $1 AND normalized LIKE $2 || '%' ESCAPE '\'
				ORDER BY searched_at DESC LIMIT 3`, userID, escapeLike(norm))
			if err != nil {
				return nil, fmt.Errorf("suggest: recent: %w", translate(err))
			}
			recent, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return nil, fmt.Errorf("suggest: recent: %w", translate(err))
			}
			for _, q := range recent {
				out = append(out, market.Suggestion{Kind: "recent", Text: q})
			}
		}
	}
	for _, sg := range ix.Suggest(prefix, limit) {
		if len(out) == limit {
			break
		}
		out = append(out, sg)
	}
	return out, nil
}
