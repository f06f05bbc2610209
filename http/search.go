package http

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"instainstru/market"
	"instainstru/search"
)

// Search defaults (SPEC §4.2).
const (
	defaultSearchLimit   = 10
	maxSearchLimit       = 50
	defaultSuggestLimit  = 8
	maxSuggestLimit      = 20
	searchRecordQueue    = 1024            // searches waiting to be recorded; more are dropped, never waited for
	searchRecordDeadline = 5 * time.Second // one record's database time
)

// searchState is what the search routes share for the server's lifetime.
type searchState struct {
	searcher Searcher
	records  chan market.SearchRecord

	latency   *prometheus.HistogramVec // endpoint: search|suggest
	searches  prometheus.Counter
	zero      prometheus.Counter
	dropped   prometheus.Counter
	recordErr prometheus.Counter
}

// searchRoutes registers search, suggest and history, and starts the
// history recorder (a search never waits for its history row), which stops
// at Shutdown. History past SEARCH_HISTORY_RETENTION is deleted by the
// node's search_history retention job.
func (s *Server) searchRoutes(r fiber.Router) {
	st := &searchState{
		searcher: s.deps.Search,
		records:  make(chan market.SearchRecord, searchRecordQueue),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "instainstru_search_duration_seconds",
			Help: "Time to answer a search or suggest request, parsing and database included.",
			// Around the targets: search p95 ≤ 50 ms, suggest p95 ≤ 10 ms.
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1},
		}, []string{"endpoint"}),
		searches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "instainstru_search_requests_total", Help: "Searches answered.",
		}),
		zero: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "instainstru_search_zero_results_total", Help: "Searches that found no instructor.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "instainstru_search_records_dropped_total",
			Help: "Searches not recorded (history and anonymous log) because the record queue was full.",
		}),
		recordErr: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "instainstru_search_record_errors_total", Help: "Searches whose record failed to write.",
		}),
	}
	if reg := s.deps.Registry; !isNilRegisterer(reg) {
		reg.MustRegister(st.latency, st.searches, st.zero, st.dropped, st.recordErr)
	}
	go st.recordLoop(s.baseCtx, s.deps.DB, s.cfg.SearchHistoryCap, s.log)

	r.Get("/search", s.handleSearch(st))
	r.Get("/search/suggest", s.handleSuggest(st))
	s.handle(r, "GET", "/search/history", market.PermSearchHistory, s.listSearchHistory)
	s.handle(r, "DELETE", "/search/history", market.PermSearchHistory, s.clearSearchHistory)
	s.handle(r, "DELETE", "/search/history/:id", market.PermSearchHistory, s.deleteSearchHistory)
}

// searchView is GET /search (SPEC §4.2).
type searchView struct {
	Query  string       `json:"query"`
	Exact  bool         `json:"exact"` // typo correction was off
	Parsed parsedView   `json:"parsed"`
	Items  []searchItem `json:"items"`
	// DidYouMean is the query with its typo corrections applied, the one
	// searched; null when nothing was corrected.
	DidYouMean *string `json:"did_you_mean"`
	// Relaxations and Popular are set when items is empty (else []).
	Relaxations []market.SearchRelaxation `json:"relaxations"`
	Popular     []parsedServiceView       `json:"popular"`
}

// searchItem is a search hit with the instructor's photo (photos.go) and
// whether they are online (presence.go, SPEC §4.3).
type searchItem struct {
	market.SearchHit
	PhotoURL *string `json:"photo_url"`
	Online   bool    `json:"online"`
}

// markOnline sets "online" on items, in one presence call.
func (s *Server) markOnline(ctx context.Context, items []searchItem) {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.InstructorID
	}
	online := s.online(ctx, ids...)
	for i := range items {
		items[i].Online = online[items[i].InstructorID]
	}
}

type parsedServiceView struct {
	ID              string `json:"id"`
	Slug            string `json:"slug"`
	Name            string `json:"name"`
	InstructorCount int    `json:"instructor_count"`
	Taught          bool   `json:"taught"`
}

// serviceViews are services with their taught flag.
func serviceViews(list []market.ServiceMatch) []parsedServiceView {
	out := make([]parsedServiceView, 0, len(list))
	for _, s := range list {
		out = append(out, parsedServiceView{ID: s.ID, Slug: s.Slug, Name: s.Name,
			InstructorCount: s.InstructorCount, Taught: s.InstructorCount > 0})
	}
	return out
}

// parsedView is what the search understood; chips quote the query's own
// words so a client can remove them to widen the search.
type parsedView struct {
	Services        []parsedServiceView `json:"services"`
	Areas           []string            `json:"areas"`
	Boroughs        []string            `json:"boroughs"`
	Instructors     []string            `json:"instructors"`
	MaxPriceCents   *int                `json:"max_price_cents"`
	Days            []string            `json:"days"`
	TimeOfDay       *string             `json:"time_of_day"`
	DurationMinutes *int                `json:"duration_minutes"`
	Levels          []string            `json:"levels"`
	Unmatched       []string            `json:"unmatched"`
	Corrections     map[string]string   `json:"corrections"`
	Chips           []market.Chip       `json:"chips"`
}

func newParsedView(q market.SearchQuery) parsedView {
	v := parsedView{Services: serviceViews(q.Services), Areas: []string{}, Boroughs: []string{}, Instructors: []string{},
		Days: []string{}, Levels: []string{}, Unmatched: []string{}, Corrections: map[string]string{}, Chips: []market.Chip{}}
	for _, a := range q.Areas {
		v.Areas = append(v.Areas, a.Name)
	}
	for _, n := range q.Instructors {
		v.Instructors = append(v.Instructors, n.InstructorID)
	}
	for _, d := range q.Days {
		v.Days = append(v.Days, strings.ToLower(d.String()))
	}
	if q.MaxPriceCents > 0 {
		v.MaxPriceCents = &q.MaxPriceCents
	}
	if q.TimeOfDay != "" {
		v.TimeOfDay = &q.TimeOfDay
	}
	if q.DurationMinutes > 0 {
		v.DurationMinutes = &q.DurationMinutes
	}
	v.Boroughs = append(v.Boroughs, q.Boroughs...)
	v.Levels = append(v.Levels, q.Levels...)
	v.Unmatched = append(v.Unmatched, q.Unmatched...)
	for k, c := range q.Corrections {
		v.Corrections[k] = c
	}
	v.Chips = append(v.Chips, q.Chips...)
	return v
}

// newSearchView is the answer to GET /search.
func newSearchView(q string, exact bool, res *market.SearchResult, items []searchItem) searchView {
	v := searchView{Query: q, Exact: exact, Parsed: newParsedView(res.Parsed), Items: items,
		Relaxations: res.Relaxations, Popular: serviceViews(res.Popular)}
	if v.Relaxations == nil {
		v.Relaxations = []market.SearchRelaxation{}
	}
	if len(res.Parsed.Corrections) > 0 {
		dym := search.Corrected(q, res.Parsed.Corrections)
		v.DidYouMean = &dym
	}
	return v
}

// searchQuery validates q: required, at most MaxSearchQueryChars
// characters, storable text. Anything else is answered, never refused.
func searchQuery(c *fiber.Ctx, required bool) (string, error) {
	// Cloned: Fiber's strings point into the request buffer, which is reused
	// once the handler returns, and the history recorder keeps q longer.
	raw := strings.Clone(c.Query("q"))
	if !validText(raw) {
		return "", market.ValidationError(map[string]string{"q": "must be valid UTF-8 text without NUL"})
	}
	q := strings.TrimSpace(raw)
	if n := utf8.RuneCountInString(q); n > market.MaxSearchQueryChars {
		return "", market.ValidationError(map[string]string{"q": fmt.Sprintf("must be at most %d characters (got %d)", market.MaxSearchQueryChars, n)})
	}
	if required && q == "" {
		return "", market.ValidationError(map[string]string{"q": "must not be empty: say what you want to learn, e.g. \"piano in harlem\""})
	}
	return q, nil
}

// intQuery is an optional integer query parameter in [1, max].
func intQuery(c *fiber.Ctx, name string, def, max int) (int, error) {
	raw := c.Query(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > max {
		return 0, market.ValidationError(map[string]string{name: fmt.Sprintf("must be an integer from 1 to %d", max)})
	}
	return n, nil
}

// optionalUser authenticates the caller when they sent credentials (a bad
// token is still 401, so a client knows to refresh); anonymous otherwise.
func (s *Server) optionalUser(c *fiber.Ctx) (*market.User, error) {
	if c.Get(fiber.HeaderAuthorization) == "" {
		return nil, nil
	}
	if err := s.authenticate(c); err != nil {
		return nil, err
	}
	return currentUser(c), nil
}

func (s *Server) handleSearch(st *searchState) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		q, err := searchQuery(c, true)
		if err != nil {
			return err
		}
		limit, err := intQuery(c, "limit", defaultSearchLimit, maxSearchLimit)
		if err != nil {
			return err
		}
		u, err := s.optionalUser(c)
		if err != nil {
			return err
		}
		exact := c.Query("exact") == "1" || c.Query("exact") == "true"
		res, err := st.searcher.SearchWith(c.UserContext(), q, market.SearchOptions{Limit: limit, Exact: exact}, start)
		if err != nil {
			return err
		}
		st.searches.Inc()
		if len(res.Items) == 0 {
			st.zero.Inc()
		}
		rec := market.SearchRecord{Query: q, ResultCount: len(res.Items), At: start}
		if u != nil {
			rec.UserID = u.ID
		}
		for _, sv := range res.Parsed.Services {
			rec.ServiceIDs = append(rec.ServiceIDs, sv.ID)
		}
		st.record(rec)
		items, err := s.searchItems(c.UserContext(), res.Items)
		if err != nil {
			return err
		}
		s.markOnline(c.UserContext(), items)
		err = c.JSON(newSearchView(q, exact, res, items))
		st.latency.WithLabelValues("search").Observe(time.Since(start).Seconds())
		return err
	}
}

// suggestView is GET /search/suggest.
type suggestView struct {
	Items []market.Suggestion `json:"items"`
}

func (s *Server) handleSuggest(st *searchState) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		q, err := searchQuery(c, false)
		if err != nil {
			return err
		}
		limit, err := intQuery(c, "limit", defaultSuggestLimit, maxSuggestLimit)
		if err != nil {
			return err
		}
		u, err := s.optionalUser(c)
		if err != nil {
			return err
		}
		var items []market.Suggestion
		switch {
		case q == "" && u != nil: // an empty box shows the caller's recent searches
			hist, err := s.deps.DB.SearchHistory(c.UserContext(), u.ID, limit)
			if err != nil {
				return err
			}
			for _, h := range hist {
				items = append(items, market.Suggestion{Kind: "recent", Text: h.Query})
			}
		case q != "":
			uid := ""
			if u != nil {
				uid = u.ID
			}
			if items, err = st.searcher.Suggest(c.UserContext(), uid, q, limit); err != nil {
				return err
			}
		}
		if items == nil {
			items = []market.Suggestion{}
		}
		err = c.JSON(suggestView{Items: items})
		st.latency.WithLabelValues("suggest").Observe(time.Since(start).Seconds())
		return err
	}
}

// searchHistoryView is GET /search/history.
type searchHistoryView struct {
	Items []market.SearchHistoryEntry `json:"items"`
}

func (s *Server) listSearchHistory(c *fiber.Ctx) error {
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	list, err := s.deps.DB.SearchHistory(c.UserContext(), currentUser(c).ID, limit)
	if err != nil {
		return err
	}
	return c.JSON(searchHistoryView{Items: list})
}

func (s *Server) deleteSearchHistory(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.deps.DB.DeleteSearchHistory(c.UserContext(), currentUser(c).ID, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) clearSearchHistory(c *fiber.Ctx) error {
	if err := s.deps.DB.ClearSearchHistory(c.UserContext(), currentUser(c).ID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// record queues r for the recorder without ever blocking the answer: when
// the queue is full the record is dropped and counted.
func (st *searchState) record(r market.SearchRecord) {
	select {
	case st.records <- r:
	default:
		st.dropped.Inc()
	}
}

// recordLoop writes queued searches one by one, in the order they were
// answered, until ctx ends; then it writes what is still queued, briefly.
func (st *searchState) recordLoop(ctx context.Context, db searchHistoryStore, keep int, log *slog.Logger) {
	write := func(base context.Context, r market.SearchRecord) {
		wctx, cancel := context.WithTimeout(base, searchRecordDeadline)
		defer cancel()
		if err := db.RecordSearch(wctx, r, keep); err != nil {
			st.recordErr.Inc()
			log.Warn("search record failed", "err", err)
		}
	}
	for {
		select {
		case r := <-st.records:
			write(ctx, r)
		case <-ctx.Done():
			drain, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			for {
				select {
				case r := <-st.records:
					if drain.Err() != nil {
						return
					}
					write(drain, r)
				default:
					return
				}
			}
		}
	}
}
