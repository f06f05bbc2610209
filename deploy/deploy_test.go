package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	apphttp "instainstru/http"
	"instainstru/hub"
	"instainstru/internal/netguard"
	"instainstru/notify"
	"instainstru/realtime"
	"instainstru/redis"
	"instainstru/store"
)

// teamMetrics are the names fixed in TEAM.md. The test checks both that the
// server registers every one of them and that dashboards and alerts use
// nothing else (besides go_*, process_* and Prometheus's own `up`).
var teamMetrics = []string{
	"instainstru_http_request_duration_seconds",
	"instainstru_http_requests_in_flight",
	"instainstru_ws_connections",
	"instainstru_ws_connects_total",
	"instainstru_ws_disconnects_total",
	"instainstru_ws_messages_sent_total",
	"instainstru_ws_messages_received_total",
	"instainstru_ws_send_queue_drops_total",
	"instainstru_ws_slow_consumer_closes_total",
	"instainstru_ws_subscriptions",
	"instainstru_ws_ephemeral_frames_total",
	"instainstru_delivery_latency_seconds",
	"instainstru_broker_publish_duration_seconds",
	"instainstru_outbox_lag_seconds",
	"instainstru_outbox_republished_total",
	"instainstru_resume_replays_total",
	"instainstru_resume_resets_total",
	"instainstru_bookings_total",
	"instainstru_availability_changes_total",
	"instainstru_pg_pool_acquired_conns",
	"instainstru_pg_pool_idle_conns",
	"instainstru_pg_pool_total_conns",
	"instainstru_pg_pool_max_conns",
	"instainstru_pg_pool_acquire_wait_seconds_total",
	"instainstru_redis_pool_total_conns",
	"instainstru_redis_pool_idle_conns",
	"instainstru_redis_pool_timeouts_total",
	"instainstru_dependency_up",
	"instainstru_search_duration_seconds",
	"instainstru_search_requests_total",
	"instainstru_search_zero_results_total",
	"instainstru_search_records_dropped_total",
	"instainstru_search_record_errors_total",
	// notifications (notify.NewMetrics)
	"instainstru_notifications_created_total",
	"instainstru_emails_total",
	"instainstru_reminders_total",
	"instainstru_reminder_lag_seconds",
	"instainstru_jobs_pending",
	"instainstru_jobs_oldest_pending_seconds",
	"instainstru_write_shed_total",
	"instainstru_retention_removed_total",
	// the edge (netguard.NewMetrics, realtime relay)
	"instainstru_outbox_relay_active",
	"instainstru_connections_shed_total",
	"instainstru_accept_errors_total",
	"instainstru_connections_open",
	"instainstru_connections_max",
}

// teamHistograms may be queried through their _bucket, _count and _sum series.
var teamHistograms = []string{
	"instainstru_http_request_duration_seconds",
	"instainstru_delivery_latency_seconds",
	"instainstru_broker_publish_duration_seconds",
	"instainstru_search_duration_seconds",
	"instainstru_reminder_lag_seconds",
}

// prometheusSynthetic are series Prometheus writes itself for every target.
var prometheusSynthetic = []string{"up"}

// registeredMetrics returns every metric name a hub node registers, read
// from the collectors' descriptors (vectors included, which a scrape omits
// until they have a child). The set mirrors cmd/hubd/node.New.
func registeredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	reg := apphttp.NewRegistry()
	hub.NewMetrics(reg)
	realtime.NewMetrics(reg)
	notify.NewMetrics(reg, nil)
	// Describe does not touch the pool or the client, so nil is fine here.
	reg.MustRegister((*store.DB)(nil).Collectors()...)
	store.NewRetention(nil, store.RetentionConfig{}, reg, nil)
	reg.MustRegister(redis.NewPoolCollector(nil))
	netguard.NewMetrics(reg)
	apphttp.New(apphttp.Config{Env: "test", JWTSecret: []byte("deploy-test-secret-0123456789abcdef")}, apphttp.Deps{Registry: reg})

	ch := make(chan *prometheus.Desc)
	go func() { reg.Describe(ch); close(ch) }()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	names := map[string]bool{}
	for d := range ch {
		m := fqName.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read the name of %s", d)
		}
		names[m[1]] = true
	}
	return names
}

// queryableNames is what a PromQL query may name: registered metrics, the
// series of the team's histograms, and Prometheus's synthetic series.
func queryableNames(t *testing.T) map[string]bool {
	t.Helper()
	reg := registeredMetrics(t)
	out := map[string]bool{}
	for n := range reg {
		out[n] = true
	}
	for _, h := range teamHistograms {
		if !reg[h] {
			t.Fatalf("histogram %s is not registered", h)
		}
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			out[h+suffix] = true
		}
	}
	for _, n := range prometheusSynthetic {
		out[n] = true
	}
	return out
}

func TestServerRegistersEveryTeamMetric(t *testing.T) {
	reg := registeredMetrics(t)
	for _, n := range teamMetrics {
		if !reg[n] {
			t.Errorf("%s (fixed in TEAM.md) is not registered by any collector", n)
		}
	}
	var goRuntime, process int
	for n := range reg {
		switch {
		case strings.HasPrefix(n, "go_"):
			goRuntime++
		case strings.HasPrefix(n, "process_"):
			process++
		case strings.HasPrefix(n, "instainstru_") && !slices.Contains(teamMetrics, n):
			t.Errorf("%s is registered but not in TEAM.md's list; add it there (and here) or rename it", n)
		}
	}
	if goRuntime == 0 || process == 0 {
		t.Fatalf("Go runtime (%d series) or process (%d series) collector missing", goRuntime, process)
	}
}

var (
	promStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promVars     = regexp.MustCompile(`\$\{?\w+\}?`)
	promOffset   = regexp.MustCompile(`\boffset\s+-?\w+`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][\w:]*`)
	promKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "by": true,
		"without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"offset": true, "inf": true, "nan": true}
)

// metricNames returns the metric names a PromQL expression selects. It is a
// tokenizer, not a parser (promtool parses in TestPromtool): strings, label
// matchers, ranges, grouping labels and Grafana variables are removed, and
// what is left that is neither a keyword nor called like a function is a
// metric name.
func metricNames(expr string) []string {
	s := promStrings.ReplaceAllString(expr, `""`)
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRanges.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	s = promVars.ReplaceAllString(s, " ")
	s = promOffset.ReplaceAllString(s, " ")
	var out []string
	for _, loc := range promIdent.FindAllStringIndex(s, -1) {
		start, end := loc[0], loc[1]
		if start > 0 && strings.ContainsAny(s[start-1:start], "0123456789.$") {
			continue // the tail of a number (1e3) or of a variable
		}
		if next := strings.TrimLeft(s[end:], " \t\n"); strings.HasPrefix(next, "(") {
			continue // a function or an aggregation
		}
		if name := s[start:end]; !promKeywords[strings.ToLower(name)] {
			out = append(out, name)
		}
	}
	return out
}

func TestMetricNamesExtractsSelectorsOnly(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`histogram_quantile(0.99, sum by (node, le) (rate(instainstru_delivery_latency_seconds_bucket{node=~"$node"}[$__rate_interval])))`,
			[]string{"instainstru_delivery_latency_seconds_bucket"}},
		{`sum(rate(a_total{route="/x{y}",m='q'}[5m] offset 1h)) / on (node) group_left b > 1e3 and c unless d`,
			[]string{"a_total", "b", "c", "d"}},
		{`sum(x) without (instance) or absent(y{job="z"})`, []string{"x", "y"}},
		{`max by (node) (instainstru_outbox_lag_seconds) > 5`, []string{"instainstru_outbox_lag_seconds"}},
		{`sum by (node, auth) (a{x="1"})`, []string{"a"}},
		{`rate(process_cpu_seconds_total{job="j"}[$__rate_interval])`, []string{"process_cpu_seconds_total"}},
		{"sum(rate(x_total[5m]))\n/\nsum(rate(y_total[5m]))", []string{"x_total", "y_total"}},
	}
	for _, tt := range tests {
		if got := metricNames(tt.expr); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("metricNames(%q) = %v, want %v", tt.expr, got, tt.want)
		}
	}
}

// dashboard is the part of Grafana's dashboard JSON the tests read.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int     `json:"id"`
	Type    string  `json:"type"`
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"` // a collapsed row's children
	GridPos struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr   string `json:"expr"`
		RefID  string `json:"refId"`
		Legend string `json:"legendFormat"`
	} `json:"targets"`
}

// dashboardQuery is one panel target, with where it came from.
type dashboardQuery struct {
	file, panel, ref, expr string
}

func loadDashboards(t *testing.T) (map[string]dashboard, []dashboardQuery) {
	t.Helper()
	files, err := filepath.Glob("grafana/dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards under deploy/grafana/dashboards (%v)", err)
	}
	dashes := map[string]dashboard{}
	var queries []dashboardQuery
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s does not parse: %v", f, err)
		}
		dashes[f] = d
		var walk func([]panel)
		walk = func(ps []panel) {
			for _, p := range ps {
				if p.Type == "row" {
					walk(p.Panels)
					continue
				}
				for _, tg := range p.Targets {
					queries = append(queries, dashboardQuery{f, p.Title, tg.RefID, tg.Expr})
				}
			}
		}
		walk(d.Panels)
	}
	return dashes, queries
}

func TestDashboardsParseAndEveryPanelQueriesAnExportedMetric(t *testing.T) {
	dashes, _ := loadDashboards(t)
	known := queryableNames(t)
	for f, d := range dashes {
		if d.UID == "" || d.Title == "" {
			t.Errorf("%s: dashboard needs a uid and a title (Grafana provisioning keys on the uid)", f)
		}
		vars := map[string]bool{"__rate_interval": true, "__interval": true, "__range": true}
		for _, v := range d.Templating.List {
			vars[v.Name] = true
			if def, ok := strings.CutPrefix(v.Definition, "label_values("); ok {
				for _, n := range metricNames(def[:max(0, strings.LastIndex(def, ","))]) {
					if !known[n] {
						t.Errorf("%s: variable %s queries %s, which nothing exports", f, v.Name, n)
					}
				}
			}
		}
		ids := map[int]string{}
		var walk func([]panel)
		walk = func(ps []panel) {
			for _, p := range ps {
				if prev, dup := ids[p.ID]; dup {
					t.Errorf("%s: panels %q and %q share id %d", f, prev, p.Title, p.ID)
				}
				ids[p.ID] = p.Title
				if p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H <= 0 {
					t.Errorf("%s: panel %q has gridPos %+v outside the 24-column grid", f, p.Title, p.GridPos)
				}
				if p.Type == "row" {
					walk(p.Panels)
					continue
				}
				if p.Title == "" {
					t.Errorf("%s: a %s panel has no title", f, p.Type)
				}
				if len(p.Targets) == 0 {
					t.Errorf("%s: panel %q has no query", f, p.Title)
				}
				if p.Datasource == nil || p.Datasource.Type != "prometheus" {
					t.Errorf("%s: panel %q does not use the Prometheus datasource", f, p.Title)
				} else if u, ok := strings.CutPrefix(p.Datasource.UID, "${"); ok && !vars[strings.TrimSuffix(u, "}")] {
					t.Errorf("%s: panel %q uses datasource %s, which is not a dashboard variable", f, p.Title, p.Datasource.UID)
				}
				for _, tg := range p.Targets {
					names := metricNames(tg.Expr)
					if len(names) == 0 {
						t.Errorf("%s: panel %q query %s names no metric: %q", f, p.Title, tg.RefID, tg.Expr)
					}
					for _, n := range names {
						if !known[n] {
							t.Errorf("%s: panel %q query %s uses %s, which the server does not export", f, p.Title, tg.RefID, n)
						}
					}
					for _, v := range promVars.FindAllString(tg.Expr, -1) {
						name := strings.Trim(v, "${}")
						if !vars[name] {
							t.Errorf("%s: panel %q uses undefined variable %s", f, p.Title, v)
						}
					}
				}
			}
		}
		walk(d.Panels)
	}
}

// TestDashboardAnswersTheOperatorsQuestions pins what the issue asks the
// dashboard to show, so a later edit cannot drop a panel by accident.
func TestDashboardAnswersTheOperatorsQuestions(t *testing.T) {
	_, queries := loadDashboards(t)
	has := func(pred func(q dashboardQuery) bool) bool { return slices.ContainsFunc(queries, pred) }
	uses := func(metric string) func(q dashboardQuery) bool {
		return func(q dashboardQuery) bool { return slices.Contains(metricNames(q.expr), metric) }
	}
	all := func(ps ...func(q dashboardQuery) bool) func(q dashboardQuery) bool {
		return func(q dashboardQuery) bool {
			for _, p := range ps {
				if !p(q) {
					return false
				}
			}
			return true
		}
	}
	contains := func(s string) func(q dashboardQuery) bool {
		return func(q dashboardQuery) bool { return strings.Contains(strings.ReplaceAll(q.expr, " ", ""), s) }
	}
	questions := []struct {
		name string
		pred func(q dashboardQuery) bool
	}{
		{"WebSocket connections", uses("instainstru_ws_connections")},
		{"delivery latency p50", all(uses("instainstru_delivery_latency_seconds_bucket"), contains("histogram_quantile(0.5,"))},
		{"delivery latency p95", all(uses("instainstru_delivery_latency_seconds_bucket"), contains("histogram_quantile(0.95,"))},
		{"delivery latency p99", all(uses("instainstru_delivery_latency_seconds_bucket"), contains("histogram_quantile(0.99,"))},
		{"bookings/s by result", all(uses("instainstru_bookings_total"), contains("sumby(result)(rate("))},
		{"HTTP latency by route", all(uses("instainstru_http_request_duration_seconds_bucket"), contains("route"))},
		{"outbox lag", uses("instainstru_outbox_lag_seconds")},
		{"Postgres health", uses("instainstru_pg_pool_acquired_conns")},
		{"Postgres pool waits", uses("instainstru_pg_pool_acquire_wait_seconds_total")},
		{"Redis health", uses("instainstru_redis_pool_total_conns")},
		{"readiness per dependency", uses("instainstru_dependency_up")},
		{"slow consumers", uses("instainstru_ws_slow_consumer_closes_total")},
	}
	for _, q := range questions {
		if !has(q.pred) {
			t.Errorf("no dashboard panel shows %s", q.name)
		}
	}
}

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
}

func TestAlertRulesCoverTheIssueAndUseExportedMetrics(t *testing.T) {
	var rf ruleFile
	readYAML(t, "prometheus/alerts.yml", &rf)
	known := queryableNames(t)
	exprs := map[string]string{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			exprs[r.Alert] = strings.Join(strings.Fields(r.Expr), " ")
			if r.For == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s needs for, a severity label, a summary and a description", r.Alert)
			}
			for _, n := range metricNames(r.Expr) {
				if !known[n] {
					t.Errorf("alert %s uses %s, which the server does not export", r.Alert, n)
				}
			}
		}
	}
	required := []struct {
		what  string
		match func(expr string) bool
	}{
		{"p99 delivery latency above 50ms", func(e string) bool {
			return strings.Contains(e, "histogram_quantile(0.99") && strings.Contains(e, "instainstru_delivery_latency_seconds_bucket") && strings.Contains(e, "> 0.05")
		}},
		{"outbox lag above 5s", func(e string) bool {
			return strings.Contains(e, "instainstru_outbox_lag_seconds") && strings.Contains(e, "> 5")
		}},
		{"slow-consumer close rate", func(e string) bool {
			return strings.Contains(e, "rate(instainstru_ws_slow_consumer_closes_total")
		}},
		{"a dependency failing readiness", func(e string) bool { return strings.Contains(e, "instainstru_dependency_up == 0") }},
		{"a node down", func(e string) bool { return strings.Contains(e, `up{job="instainstru-hub"} == 0`) }},
	}
	for _, r := range required {
		found := false
		for _, e := range exprs {
			found = found || r.match(e)
		}
		if !found {
			t.Errorf("no alert for %s", r.what)
		}
	}
}

// composeFile is the part of docker-compose.yml the tests read.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		EnvFile     []string          `yaml:"env_file"`
		Profiles    []string          `yaml:"profiles"`
		DependsOn   any               `yaml:"depends_on"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
	} `yaml:"services"`
}

// dependsOn returns service → condition ("" for the short list form).
func dependsOn(v any) map[string]string {
	out := map[string]string{}
	switch d := v.(type) {
	case []any:
		for _, s := range d {
			out[fmt.Sprint(s)] = ""
		}
	case map[string]any:
		for s, c := range d {
			cond, _ := c.(map[string]any)["condition"].(string)
			out[s] = cond
		}
	}
	return out
}

func TestComposeRunsTwoNodesBehindALoadBalancerWithMonitoring(t *testing.T) {
	var c composeFile
	readYAML(t, "../docker-compose.yml", &c)
	for _, s := range []string{"postgres", "redis", "migrate", "seed", "hub1", "hub2", "lb", "prometheus", "grafana"} {
		if _, ok := c.Services[s]; !ok {
			t.Fatalf("service %s is missing", s)
		}
	}
	if cmd := c.Services["migrate"].Command; fmt.Sprint(cmd) != "[migrate]" {
		t.Errorf("migrate runs %v, want hubd migrate", cmd)
	}
	if cmd := c.Services["seed"].Command; len(cmd) == 0 || cmd[0] != "seed" {
		t.Errorf("seed runs %v, want hubd seed", cmd)
	}
	if dependsOn(c.Services["seed"].DependsOn)["migrate"] != "service_completed_successfully" {
		t.Errorf("seed must wait for migrate to complete")
	}
	// Demo accounts share a published password: seeding is opt-in.
	if fmt.Sprint(c.Services["seed"].Profiles) != "[demo]" {
		t.Errorf("seed must only run with --profile demo, has profiles %v", c.Services["seed"].Profiles)
	}
	nodeIDs := map[string]bool{}
	for _, n := range []string{"hub1", "hub2"} {
		s := c.Services[n]
		if len(s.Command) != 0 && fmt.Sprint(s.Command) != "[serve]" {
			t.Errorf("%s runs %v, want hubd serve", n, s.Command)
		}
		if d := dependsOn(s.DependsOn); d["migrate"] != "service_completed_successfully" || d["seed"] != "" {
			t.Errorf("%s must start after migrate completes and not wait for the opt-in seed: %v", n, d)
		}
		for _, k := range []string{"DATABASE_URL", "REDIS_URL", "MONITORING_API_KEY", "APP_ENV", "NODE_ID"} {
			if s.Environment[k] == "" {
				t.Errorf("%s: %s is not set", n, k)
			}
		}
		// The JWT secret comes from the operator's env file, never from the
		// published compose file.
		if _, ok := s.Environment["JWT_SECRET"]; ok {
			t.Errorf("%s: JWT_SECRET is written in docker-compose.yml; it belongs in deploy/hub.env", n)
		}
		if fmt.Sprint(s.EnvFile) != "[${HUB_ENV_FILE:-deploy/hub.env}]" {
			t.Errorf("%s: env_file = %v, want deploy/hub.env", n, s.EnvFile)
		}
		if len(s.Ports) != 0 {
			t.Errorf("%s publishes ports %v; only the load balancer should", n, s.Ports)
		}
		nodeIDs[s.Environment["NODE_ID"]] = true
	}
	if len(nodeIDs) != 2 {
		t.Errorf("hub1 and hub2 share a NODE_ID")
	}
	if fmt.Sprint(c.Services["hub1"].EnvFile) != fmt.Sprint(c.Services["hub2"].EnvFile) {
		t.Errorf("hub nodes must share their env file (JWT_SECRET), or a token from one is refused by the other")
	}
	example, err := os.ReadFile("hub.env.example")
	if err != nil || !strings.Contains(string(example), "\nJWT_SECRET=\n") {
		t.Errorf("deploy/hub.env.example must exist with an empty JWT_SECRET= for the operator to fill: %v", err)
	}
	if g := c.Services["grafana"].Environment; g["GF_AUTH_ANONYMOUS_ENABLED"] != "true" || g["GF_AUTH_ANONYMOUS_ORG_ROLE"] != "Viewer" {
		t.Errorf("grafana must allow anonymous viewers")
	}

	// Prometheus's bearer token is the nodes' monitoring key.
	key, err := os.ReadFile("prometheus/monitoring_api_key")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(key)); got != c.Services["hub1"].Environment["MONITORING_API_KEY"] {
		t.Errorf("deploy/prometheus/monitoring_api_key (%q) differs from the nodes' MONITORING_API_KEY (%q): every scrape would get 401",
			got, c.Services["hub1"].Environment["MONITORING_API_KEY"])
	}

	// Every bind-mounted path exists in the repository.
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if !strings.HasPrefix(src, "./") {
				continue
			}
			if _, err := os.Stat(filepath.Join("..", src)); err != nil {
				t.Errorf("%s mounts %s, which does not exist", name, src)
			}
		}
	}
}

func TestPrometheusScrapesBothNodesWithTheKey(t *testing.T) {
	var cfg struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			MetricsPath   string `yaml:"metrics_path"`
			Authorization struct {
				Type            string `yaml:"type"`
				CredentialsFile string `yaml:"credentials_file"`
			} `yaml:"authorization"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, "prometheus/prometheus.yml", &cfg)
	for _, rf := range cfg.RuleFiles {
		if _, err := os.Stat(filepath.Join("prometheus", rf)); err != nil {
			t.Errorf("rule file %s: %v", rf, err)
		}
	}
	for _, sc := range cfg.ScrapeConfigs {
		if sc.JobName != "instainstru-hub" {
			continue
		}
		var targets []string
		for _, s := range sc.StaticConfigs {
			targets = append(targets, s.Targets...)
		}
		sort.Strings(targets)
		if fmt.Sprint(targets) != "[hub1:8080 hub2:8080]" {
			t.Errorf("hub targets %v, want both nodes", targets)
		}
		if sc.Authorization.Type != "Bearer" || sc.Authorization.CredentialsFile == "" {
			t.Errorf("hub scrape has no bearer key: %+v", sc.Authorization)
		}
		if _, err := os.Stat(filepath.Join("prometheus", sc.Authorization.CredentialsFile)); err != nil {
			t.Errorf("credentials file: %v", err)
		}
		return
	}
	t.Fatal("no instainstru-hub scrape job")
}

// nginxBlock returns the body of the first block opened by header (e.g.
// "location = /ws"), braces balanced, comments removed.
func nginxBlock(conf, header string) (string, bool) {
	conf = regexp.MustCompile(`(?m)#.*$`).ReplaceAllString(conf, "")
	i := strings.Index(conf, header)
	if i < 0 {
		return "", false
	}
	open := strings.Index(conf[i:], "{")
	if open < 0 {
		return "", false
	}
	depth := 0
	for j := i + open; j < len(conf); j++ {
		switch conf[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return conf[i+open+1 : j], true
			}
		}
	}
	return "", false
}

func TestLoadBalancerPassesWebSocketUpgrades(t *testing.T) {
	b, err := os.ReadFile("nginx/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(b)
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	upstream, ok := nginxBlock(conf, "upstream hub")
	if !ok || !strings.Contains(upstream, "server hub1:8080") || !strings.Contains(upstream, "server hub2:8080") {
		t.Fatalf("upstream hub must list hub1:8080 and hub2:8080:\n%s", upstream)
	}
	server, ok := nginxBlock(conf, "server {")
	if !ok || !strings.Contains(norm(server), "proxy_http_version 1.1;") {
		t.Fatalf("server block must proxy with HTTP/1.1 (required for Upgrade)")
	}
	ws, ok := nginxBlock(conf, "location = /ws")
	if !ok {
		t.Fatal("no location for /ws")
	}
	for _, want := range []string{
		"proxy_pass http://hub;",
		"proxy_set_header Upgrade $http_upgrade;",
		"proxy_set_header Connection $connection_upgrade;",
		"proxy_set_header Host $http_host;", // keeps the port, so the WebSocket origin check matches
		"proxy_read_timeout 1h;",
	} {
		if !strings.Contains(norm(ws), want) {
			t.Errorf("location /ws lacks %q", want)
		}
	}
	rest, ok := nginxBlock(conf, "location / ")
	if !ok || !strings.Contains(norm(rest), "proxy_set_header Host $http_host;") {
		t.Errorf("location / must forward Host (nginx drops server-level proxy_set_header in a location that sets its own)")
	}
	for name, block := range map[string]string{"/ws": ws, "/": rest} {
		// Appending ($proxy_add_x_forwarded_for) would keep what the client
		// sent; the nodes trust only what nginx itself saw.
		if !strings.Contains(norm(block), "proxy_set_header X-Forwarded-For $remote_addr;") {
			t.Errorf("location %s must set X-Forwarded-For from $remote_addr", name)
		}
	}
	metrics, ok := nginxBlock(conf, "location = /metrics")
	if !ok || !strings.Contains(norm(metrics), "return 404;") {
		t.Errorf("/metrics must not be served through the load balancer (it would come from a random node)")
	}
}

// requireTool returns the path of a command-line tool. Where it is missing,
// CI (CI set, or DEPLOY_REQUIRE_TOOLS) fails, and a developer's run skips
// saying how to install it: deploy/check.sh installs both tools.
func requireTool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not installed (apt-get install -y %s, or run deploy/check.sh)", name, debianPackage)
	if os.Getenv("CI") != "" || os.Getenv("DEPLOY_REQUIRE_TOOLS") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg + "; the Go checks above still ran")
	return ""
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func TestPromtoolAcceptsConfigRulesAndDashboardQueries(t *testing.T) {
	promtool := requireTool(t, "promtool", "prometheus")
	run(t, promtool, "check", "config", "prometheus/prometheus.yml")
	run(t, promtool, "check", "rules", "prometheus/alerts.yml")
	run(t, promtool, "test", "rules", "prometheus/alerts_test.yml")

	// Dashboard queries are PromQL too: promtool parses them as recording
	// rules, with Grafana's variables replaced by values Prometheus accepts.
	_, queries := loadDashboards(t)
	subst := strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "$__range", "1h", "$node", ".*")
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for i, q := range queries {
		rules = append(rules, rule{Record: fmt.Sprintf("dashboard:query_%d", i), Expr: subst.Replace(q.expr)})
	}
	b, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "dashboard_queries.yml")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, promtool, "check", "rules", f)
}

func TestDockerComposeAcceptsTheFile(t *testing.T) {
	dc := requireTool(t, "docker-compose", "docker-compose")
	// The operator's deploy/hub.env is git-ignored; validate with the example.
	t.Setenv("HUB_ENV_FILE", "deploy/hub.env.example")
	run(t, dc, "-f", "../docker-compose.yml", "config", "-q")
}
