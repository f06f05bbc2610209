package report

import (
	"fmt"
	"instainstru/loadtest/config"
	"instainstru/loadtest/floor"
	"instainstru/loadtest/measure"
	"sort"
	"time"
)

// Result is everything one run measured; -json writes it whole.
type Result struct {
	Scenario   string         `json:"scenario"`
	RunID      string         `json:"run_id"`
	StartedAt  time.Time      `json:"started_at"`
	Config     config.Config  `json:"config"`
	Nodes      []string       `json:"nodes"`
	LoadSecs   float64        `json:"load_seconds"`
	DrainSecs  float64        `json:"drain_seconds"`
	Warnings   []string       `json:"warnings,omitempty"`
	Pass       bool           `json:"pass"`
	Failures   []string       `json:"failures,omitempty"`
	TargetsMet bool           `json:"targets_met"`
	Targets    []TargetResult `json:"targets"`

	CPU         CPUStats                      `json:"cpu"`
	Server      []ServerStats                 `json:"server,omitempty"`
	Connections ConnStats                     `json:"connections"`
	Bookings    BookingStats                  `json:"bookings"`
	Delivery    DeliveryStats                 `json:"delivery"`
	Fanout      FanoutStats                   `json:"fanout"`
	Floor       *floor.Stats                  `json:"floor,omitempty"` // fanout: the syscall floor, measured before the watchers connect
	Idle        *IdleStats                    `json:"idle,omitempty"`
	Messages    *MessageStats                 `json:"messages,omitempty"`
	Latency     map[string]*measure.Histogram `json:"latency"`
	Errors      map[string]int64              `json:"errors"`
	Notes       map[string]int64              `json:"notes"`
}

// CPUStats is the generator's own CPU time (getrusage) over load and
// drain; the nodes' is in ServerStats.
type CPUStats struct {
	WallSecs      float64 `json:"wall_seconds"`
	GeneratorSecs float64 `json:"generator_seconds"`
}

// ConnStats describes connection setup.
type ConnStats struct {
	Requested   int     `json:"requested"`
	Open        int     `json:"open"`
	Failed      int     `json:"failed"`
	SignedIn    int     `json:"signed_in"`
	Instructors int     `json:"instructor_connections"`
	SetupSecs   float64 `json:"setup_seconds"`
	PerSecond   float64 `json:"setup_per_second"`
	Reconnects  int64   `json:"reconnects"`
	ByNode      []int   `json:"by_node"`
}

// BookingStats counts the write load.
type BookingStats struct {
	TargetRate       float64 `json:"target_rate"`
	Scheduled        int64   `json:"scheduled"`
	Sent             int64   `json:"sent"`
	AchievedRate     float64 `json:"achieved_rate"`
	Created          int64   `json:"created"`
	Conflicts        int64   `json:"conflicts_409"`
	Errors           int64   `json:"errors"`
	Shed             int64   `json:"shed_503"` // refused with 503 + Retry-After: load shedding, not errors
	CancelShed       int64   `json:"cancel_shed_503"`
	NoOpenSlot       int64   `json:"blind_no_open_slot_in_view"`
	Dropped          int64   `json:"dropped_in_flight_limit"`
	CancelsSent      int64   `json:"cancels_sent"`
	Cancelled        int64   `json:"cancelled"`
	CancelErrors     int64   `json:"cancel_errors"`
	Replays          int64   `json:"idempotent_replays"`
	Gets             int64   `json:"gets"`
	GetErrors        int64   `json:"get_errors"`
	CleanupCancelled int     `json:"cleanup_cancelled"`
}

// DeliveryStats is the loss/duplication reconciliation.
type DeliveryStats struct {
	Subscriptions       int      `json:"subscriptions"`
	SubscribesRefused   int      `json:"subscribes_refused"`
	ExpectedEvents      int64    `json:"expected_events"`
	ReceivedEvents      int64    `json:"received_events"`
	Lost                int64    `json:"lost"`
	Duplicated          int64    `json:"duplicated"`
	BeforeAck           int64    `json:"events_before_ack"`
	Resets              int64    `json:"resets"`
	SkippedByReset      int64    `json:"skipped_by_reset"`
	BookingPushExpected int64    `json:"booking_pushes_expected"`
	BookingPushReceived int64    `json:"booking_pushes_received"`
	BookingPushLost     int64    `json:"booking_pushes_lost"`
	BookingPushDup      int64    `json:"booking_pushes_duplicated"`
	BookingPushUnwanted int64    `json:"booking_pushes_unexpected"`
	BookingPushUnknown  int64    `json:"booking_pushes_for_unknown_bookings"`
	UserTopicGaps       int64    `json:"user_topic_seq_gaps"`
	UserTopicDups       int64    `json:"user_topic_seq_dups"`
	Samples             []string `json:"samples,omitempty"` // the first few losses, gaps and unknown pushes, for a reader to chase
}

// FanoutStats summarises per-event fan-out.
type FanoutStats struct {
	Events         int     `json:"events"`
	CompleteEvents int     `json:"complete_events"`
	AvgReceivers   float64 `json:"avg_receivers"`
}

// IdleStats is the idle-connections measurement.
type IdleStats struct {
	Connections int        `json:"connections"`
	Procs       int        `json:"procs"`
	FDLimit     uint64     `json:"fd_limit_per_proc"`
	HoldSecs    float64    `json:"hold_seconds"`
	Dropped     int        `json:"dropped_during_hold"`
	Nodes       []IdleNode `json:"nodes"`
}

// MessageStats is the messages scenario's load (its deliveries are
// reconciled in Delivery: each message once at the recipient's socket and
// once at the sender's own).
type MessageStats struct {
	Conversations int     `json:"conversations"`
	Users         int     `json:"users"`
	TargetRate    float64 `json:"target_rate"`
	Sent          int64   `json:"sent"`
	AchievedRate  float64 `json:"achieved_rate"`
	Errors        int64   `json:"errors"`
}

// IdleNode is one node's RSS before and after.
type IdleNode struct {
	URL          string  `json:"url"`
	Connections  int     `json:"connections"`
	RSSBefore    float64 `json:"rss_before_bytes"`
	RSSAfter     float64 `json:"rss_after_bytes"`
	BytesPerConn float64 `json:"bytes_per_connection"`
	// Where it goes (Go runtime metrics, deltas per connection).
	HeapPerConn       float64 `json:"heap_inuse_bytes_per_connection"`
	StackPerConn      float64 `json:"stack_inuse_bytes_per_connection"`
	GoroutinesPerConn float64 `json:"goroutines_per_connection"`
	ServerConnsGauge  float64 `json:"server_ws_connections"`
}

// TargetResult is one checked figure.
type TargetResult struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Limit string `json:"limit"`
	Pass  bool   `json:"pass"`
}

// Judge decides Pass (loss, duplication, errors) and evaluates targets.
func (res *Result) Judge() {
	d := res.Delivery
	fail := func(cond bool, format string, a ...any) {
		if cond {
			res.Failures = append(res.Failures, fmt.Sprintf(format, a...))
		}
	}
	fail(d.Lost > 0, "%d events lost", d.Lost)
	fail(d.Duplicated > 0, "%d events duplicated", d.Duplicated)
	fail(d.SkippedByReset > 0, "%d events skipped by reset (history too short)", d.SkippedByReset)
	fail(d.BookingPushLost > 0, "%d booking pushes lost", d.BookingPushLost)
	fail(d.BookingPushDup > 0, "%d booking pushes duplicated", d.BookingPushDup)
	fail(d.BookingPushUnwanted > 0, "%d cancellation pushes for bookings not cancelled", d.BookingPushUnwanted)
	fail(d.UserTopicDups > 0, "%d duplicate seqs on private topics", d.UserTopicDups)
	fail(d.UserTopicGaps > 0, "%d missing seqs on private topics", d.UserTopicGaps)
	var errs int64
	for _, n := range res.Errors {
		errs += n
	}
	fail(d.BookingPushUnknown > 0 && errs == 0, "%d pushes for bookings no request of this run created", d.BookingPushUnknown)
	fail(errs > 0, "%d errors (see errors by kind)", errs)
	res.Targets = targetsFor(res)
	res.TargetsMet = true
	for _, t := range res.Targets {
		if !t.Pass {
			res.TargetsMet = false
			if res.Config.Strict {
				res.Failures = append(res.Failures, "target missed: "+t.Name)
			}
		}
	}
	res.Pass = len(res.Failures) == 0
}

func durTarget(name string, h *measure.Histogram, q float64, limit time.Duration) TargetResult {
	v := h.Quantile(q)
	if q >= 1 {
		v = h.Max()
	}
	return TargetResult{Name: name, Value: measure.FmtDur(v), Limit: "≤ " + measure.FmtDur(limit), Pass: h.Count() > 0 && v <= limit}
}

// targetsFor lists the SPEC §7 targets the scenario checks.
func targetsFor(res *Result) []TargetResult {
	L := res.Latency
	d := res.Delivery
	zero := TargetResult{Name: "events lost or duplicated", Value: fmt.Sprint(d.Lost + d.Duplicated + d.BookingPushLost + d.BookingPushDup + d.SkippedByReset),
		Limit: "= 0", Pass: d.Lost+d.Duplicated+d.BookingPushLost+d.BookingPushDup+d.SkippedByReset == 0}
	var t []TargetResult
	switch res.Scenario {
	case "booking-storm":
		rate := res.Bookings.AchievedRate
		t = append(t,
			TargetResult{Name: "booking POSTs/s sent", Value: fmt.Sprintf("%.1f", rate),
				Limit: fmt.Sprintf("≥ %.0f", 0.97*res.Bookings.TargetRate), Pass: rate >= 0.97*res.Bookings.TargetRate},
			durTarget("POST /bookings p99", L[measure.HBookingPost], 0.99, 50*time.Millisecond),
			durTarget("GET availability p99", L[measure.HGetAvailability], 0.99, 5*time.Millisecond),
			zero)
	case "booking-steady":
		rate := res.Bookings.AchievedRate
		t = append(t,
			TargetResult{Name: "booking POSTs/s sent", Value: fmt.Sprintf("%.1f", rate),
				Limit: fmt.Sprintf("≥ %.0f", 0.97*res.Bookings.TargetRate), Pass: rate >= 0.97*res.Bookings.TargetRate},
			durTarget("POST /bookings p99", L[measure.HBookingPost], 0.99, 15*time.Millisecond),
			durTarget("GET availability p99", L[measure.HGetAvailability], 0.99, 5*time.Millisecond),
			durTarget("push commit→receipt cross-node p50", L[measure.HPushCrossAll], 0.50, 2*time.Millisecond),
			durTarget("push commit→receipt cross-node p99", L[measure.HPushCrossAll], 0.99, 10*time.Millisecond),
			zero)
	case "changes":
		// Every created booking and every cancellation commits one
		// availability change (its availability.changed event).
		secs := res.Config.Duration.Seconds()
		perSec := float64(res.Bookings.Created+res.Bookings.Cancelled) / secs
		t = append(t,
			TargetResult{Name: "committed availability changes/s", Value: fmt.Sprintf("%.0f", perSec),
				Limit: "≥ 1000", Pass: perSec >= 1000},
			durTarget("availability push p99, same node", L[measure.HPushAvailSame], 0.99, 50*time.Millisecond),
			durTarget("availability push p99, cross-node", L[measure.HPushAvailCross], 0.99, 50*time.Millisecond),
			zero)
	case "fanout":
		t = append(t,
			// SPEC §7 states this target against the syscall floor measured in
			// the same run (below), not as an absolute time.
			TargetResult{Name: "events delivered to every watcher", Value: fmt.Sprintf("%d/%d", res.Fanout.CompleteEvents, res.Fanout.Events),
				Limit: "all", Pass: res.Fanout.Events > 0 && res.Fanout.CompleteEvents == res.Fanout.Events},
			zero)
		if f := res.Floor; f != nil && f.LatencyRatio > 0 {
			t = append(t, TargetResult{Name: "fan-out last receiver p50 / syscall floor p50", Value: fmt.Sprintf("%.2f×", f.LatencyRatio),
				Limit: "≤ 1.25×", Pass: f.LatencyRatio <= 1.25})
			if f.CPURatio > 0 {
				t = append(t, TargetResult{Name: "node CPU per delivery / floor writer CPU", Value: fmt.Sprintf("%.2f×", f.CPURatio),
					Limit: "≤ 1.25×", Pass: f.CPURatio <= 1.25})
			}
		}
	case "messages":
		var m MessageStats
		if res.Messages != nil {
			m = *res.Messages
		}
		t = append(t,
			TargetResult{Name: "messages/s sent", Value: fmt.Sprintf("%.1f", m.AchievedRate),
				Limit: fmt.Sprintf("≥ %.0f", 0.97*m.TargetRate), Pass: m.AchievedRate >= 0.97*m.TargetRate},
			durTarget("message send → other party's socket p99", L[measure.HMessageDeliver], 0.99, 20*time.Millisecond),
			zero)
	case "idle-conns":
		if res.Idle != nil {
			for _, n := range res.Idle.Nodes {
				t = append(t, TargetResult{Name: "server RSS per idle connection (" + n.URL + ")",
					Value: fmt.Sprintf("%.1f KiB", n.BytesPerConn/1024), Limit: "≤ 12 KiB",
					Pass: n.Connections > 0 && n.BytesPerConn <= 12*1024})
			}
		}
	default:
		t = append(t,
			TargetResult{Name: "bookings created", Value: fmt.Sprint(res.Bookings.Created), Limit: "≥ 1", Pass: res.Bookings.Created > 0},
			TargetResult{Name: "pushes received", Value: fmt.Sprint(res.Delivery.ReceivedEvents + res.Delivery.BookingPushReceived),
				Limit: "≥ 1", Pass: res.Delivery.ReceivedEvents+res.Delivery.BookingPushReceived > 0},
			zero)
	}
	return t
}

// latencyRows are the histograms shown in the table, in order, with labels.
var latencyRows = []struct{ key, label string }{
	{measure.HBookingPost, "POST /bookings (from intended start)"},
	{measure.HBookingService, "POST /bookings (service time only)"},
	{measure.HCancelPost, "POST /bookings/{id}/cancel"},
	{measure.HGetAvailability, "GET availability"},
	{measure.HPushAvailSame, "availability push, same node"},
	{measure.HPushAvailCross, "availability push, cross-node"},
	{measure.HPushBookingSame, "booking push, same node"},
	{measure.HPushBookingCross, "booking push, cross-node"},
	{measure.HPushSameAll, "all pushes, same node"},
	{measure.HPushCrossAll, "all pushes, cross-node"},
	{measure.HBookingPushInstr, "booking push to instructor"},
	{measure.HBookingPushStudent, "booking push to student"},
	{measure.HFanoutFirst, "fan-out: first receiver"},
	{measure.HFanoutLast, "fan-out: last receiver"},
	{measure.HFanoutSpread, "fan-out: first→last spread"},
	{measure.HMessagePost, "POST /conversations/{id}/messages (from intended start)"},
	{measure.HMessageDeliver, "message: send → other party's socket (other node)"},
	{measure.HMessageCommit, "message: commit → other party's socket"},
	{measure.HConnect, "WebSocket connect (dial→welcome)"},
	{measure.HSubscribeAck, "subscribe → ack"},
	{measure.HReconnect, "reconnect"},
}

func sortedKeys(m map[string]int64) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// summary is one line of a node's own figures.
func (sv ServerStats) summary(wall float64) string {
	line := fmt.Sprintf("%s: cpu %.1fs (%.0f%% of a core), pg pool %.0f conns waited %.1fs, outbox lag at end %s",
		sv.URL, sv.CPUSeconds, 100*sv.CPUSeconds/wall, sv.PgPoolMaxConns, sv.PgPoolWaitSeconds, measure.FmtDur(time.Duration(sv.OutboxLagSeconds*1e9)))
	if sv.EmailsSent > 0 || sv.JobsOldestSeconds > 0 {
		line += fmt.Sprintf(", %.0f emails sent, oldest due job at end %s", sv.EmailsSent, measure.FmtDur(time.Duration(sv.JobsOldestSeconds*1e9)))
	}
	if sv.Deliveries > 0 {
		q := func(v float64, beyond bool) string {
			s := measure.FmtDur(time.Duration(v * 1e9))
			if beyond {
				s = "> " + s
			}
			return s
		}
		line += fmt.Sprintf(", %.0f deliveries commit→write p50 %s p99 %s", sv.Deliveries,
			q(sv.DeliveryP50Seconds, sv.DeliveryP50Beyond), q(sv.DeliveryP99Seconds, sv.DeliveryP99Beyond))
	}
	for _, c := range []struct {
		n string
		v float64
	}{{"send-queue drops", sv.SendQueueDrops}, {"slow-consumer closes", sv.SlowConsumerCloses}, {"republished", sv.OutboxRepublished}, {"resume resets", sv.ResumeResets}, {"redis pool timeouts", sv.RedisPoolTimeouts}} {
		if c.v > 0 {
			line += fmt.Sprintf(", %s %.0f", c.n, c.v)
		}
	}
	return line
}
