package config

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Config is one run of the generator. Presets fill it; flags override.
type Config struct {
	Scenario string   `json:"scenario"`
	URLs     []string `json:"urls"`          // every node, e.g. http://127.0.0.1:8081
	WatchOn  []int    `json:"watch_nodes"`   // indexes into URLs that watchers connect to
	BookOn   []int    `json:"booking_nodes"` // indexes into URLs that writes go to

	Duration time.Duration `json:"duration_ns"`
	Drain    time.Duration `json:"drain_ns"` // how long to wait for the last pushes after the load stops

	Watchers         int           `json:"watchers"`           // N watcher connections
	SignedInRatio    float64       `json:"signed_in_ratio"`    // share of watchers signed in as a student
	Instructors      int           `json:"instructors"`        // M instructors whose availability is watched and booked
	TopicsPerWatcher int           `json:"topics_per_watcher"` // availability topics each watcher subscribes to
	Students         int           `json:"students"`           // K students who book
	Rate             float64       `json:"rate"`               // booking attempts per second (open loop)
	Poisson          bool          `json:"poisson"`            // exponential inter-arrival times instead of a fixed interval
	CancelRatio      float64       `json:"cancel_ratio"`       // share of created bookings cancelled later
	CancelAfter      time.Duration `json:"cancel_after_ns"`
	GetRate          float64       `json:"get_rate"`     // GET availability per second (open loop)
	ReplayRatio      float64       `json:"replay_ratio"` // share of created bookings re-POSTed with the same Idempotency-Key
	MailOff          bool          `json:"mail_off"`     // the run's users turn email and reminders off (no email rows, no jobs)
	DaysAhead        int           `json:"days_ahead"`
	MaxInFlight      int           `json:"max_in_flight"`
	ConnectParallel  int           `json:"connect_parallel"`
	RequestTimeout   time.Duration `json:"request_timeout_ns"`

	Password          string   `json:"-"`
	InstructorEmails  []string `json:"instructor_emails,omitempty"`
	EmailDomain       string   `json:"email_domain"`
	MonitoringKey     string   `json:"-"`
	Cleanup           bool     `json:"cleanup"`
	CreateInstructors bool     `json:"create_instructors"` // register instructors when the cluster has fewer than -instructors

	// messages: conversations between the run's students and instructors
	Conversations int `json:"conversations"`

	// idle-conns
	Procs     int           `json:"procs"`
	SourceIPs []string      `json:"source_ips,omitempty"`
	Settle    time.Duration `json:"settle_ns"`

	RunID    string `json:"run_id"`
	Strict   bool   `json:"strict"`
	JSONPath string `json:"-"`
	HTMLPath string `json:"-"`
	Quiet    bool   `json:"-"`
	Seed     uint64 `json:"seed"`
}

// Preset is a named scenario: its defaults and the SPEC §7 targets it checks.
type Preset struct {
	Name  string
	About string
	Apply func(c *Config)
}

// Presets are the named scenarios. Node lists decide topology: fanout puts
// every watcher on the first node and writes on the last, so the change
// crosses nodes before it fans out.
var Presets = []Preset{
	{
		Name:  "smoke",
		About: "a few seconds of everything at low volume; proves the tool and the cluster work (make test)",
		Apply: func(c *Config) {
			c.Duration = 3 * time.Second
			c.Drain = 5 * time.Second
			c.Watchers = 12
			c.SignedInRatio = 0.5
			c.Instructors = 3
			c.TopicsPerWatcher = 2
			c.Students = 4
			c.Rate = 10
			c.CancelRatio = 0.5
			c.CancelAfter = 500 * time.Millisecond
			c.GetRate = 5
			c.ReplayRatio = 0.2
			c.DaysAhead = 7
		},
	},
	{
		Name:  "booking-storm",
		About: "300 booking attempts/s on 50 instructors through 2 nodes, watchers on both nodes (SPEC §7 booking p99 ≤ 50 ms at 300/s, availability GET p99 during the storm)",
		Apply: bookingStorm,
	},
	{
		Name:  "booking-steady",
		About: "booking-storm at 100 attempts/s (SPEC §7: booking p99 ≤ 15 ms, availability GET p99, cross-node push p50/p99 at 100 bookings/s)",
		Apply: func(c *Config) {
			bookingStorm(c)
			c.Rate = 100
		},
	},
	{
		Name:  "changes",
		About: "1,000 committed availability changes/s asked (500 bookings/s, each cancelled 1 s later) on 10 instructors, each watched by 100 sockets (SPEC §7 ≥ 1,000 changes/s, delivery p99 ≤ 50 ms)",
		Apply: func(c *Config) {
			c.Duration = 20 * time.Second
			c.Drain = 10 * time.Second
			c.Watchers = 1000
			c.SignedInRatio = 0
			c.Instructors = 10
			c.TopicsPerWatcher = 1
			c.Students = 400
			c.Rate = 500
			c.CancelRatio = 1
			c.CancelAfter = time.Second
			c.GetRate = 0
			c.DaysAhead = 28
		},
	},
	{
		Name:  "fanout",
		About: "10,000 watchers of one instructor on one node, one availability change per second made on another node (SPEC §7 fan-out ≤ 50 ms)",
		Apply: func(c *Config) {
			c.Duration = 20 * time.Second
			c.Drain = 10 * time.Second
			c.Watchers = 10000
			c.SignedInRatio = 0
			c.Instructors = 1
			c.TopicsPerWatcher = 1
			c.Students = 2
			c.Rate = 0.5 // each booking is cancelled 1 s later: one change per second
			c.CancelRatio = 1
			c.CancelAfter = time.Second
			c.GetRate = 0
			c.DaysAhead = 14
			c.ConnectParallel = 64
			if len(c.URLs) > 1 {
				c.WatchOn = []int{0}
				c.BookOn = []int{len(c.URLs) - 1}
			}
		},
	},
	{
		Name:  "idle-conns",
		About: "N idle connections (one subscription each) held open; server RSS per connection from process_resident_memory_bytes before/after (SPEC §7 ≤ 12 KiB)",
		Apply: func(c *Config) {
			c.Duration = 10 * time.Second
			c.Watchers = 18000
			c.SignedInRatio = 0
			c.Instructors = 1
			c.TopicsPerWatcher = 1
			c.Students = 0
			c.Rate = 0
			c.GetRate = 0
			c.DaysAhead = 7
			c.Procs = 2
			c.Settle = 5 * time.Second
			c.ConnectParallel = 64
			c.WatchOn = []int{0}
		},
	},
	{
		Name: "messages",
		About: "1,000 conversations between 50 students (sockets on the first node) and 20 instructors (on the last), 200 messages/s, " +
			"every message crossing nodes (SPEC §7: send → other party's socket p99 ≤ 20 ms at 200 messages/s, none lost or duplicated)",
		Apply: func(c *Config) {
			c.Duration = 20 * time.Second
			c.Drain = 10 * time.Second
			c.Watchers = 0
			c.Students = 50
			c.Instructors = 20
			c.Conversations = 1000
			c.Rate = 200
			c.GetRate = 0
		},
	},
}

// bookingStorm is the booking-storm preset (booking-steady starts from it).
func bookingStorm(c *Config) {
	c.Duration = 30 * time.Second
	c.Drain = 10 * time.Second
	c.Watchers = 500
	c.SignedInRatio = 0.2
	c.Instructors = 50
	c.TopicsPerWatcher = 5
	c.Students = 100
	c.Rate = 300
	c.CancelRatio = 1
	c.CancelAfter = 2 * time.Second
	c.GetRate = 50
	c.ReplayRatio = 0.02
	c.DaysAhead = 14
}

func presetByName(name string) (Preset, bool) {
	for _, p := range Presets {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

func PresetNames() string {
	var n []string
	for _, p := range Presets {
		n = append(n, p.Name)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

// baseConfig is every field a preset does not set.
func baseConfig() Config {
	return Config{
		URLs:              []string{"http://127.0.0.1:8080"},
		Duration:          10 * time.Second,
		Drain:             10 * time.Second,
		DaysAhead:         14,
		MaxInFlight:       5000,
		ConnectParallel:   32,
		RequestTimeout:    10 * time.Second,
		Password:          "TestPassword123!",
		EmailDomain:       "loadtest.example.com",
		Cleanup:           true,
		CreateInstructors: true,
		Procs:             1,
		Settle:            3 * time.Second,
	}
}

// NewConfig returns the preset's configuration for these node URLs.
func NewConfig(scenario string, urls []string) (Config, error) {
	p, ok := presetByName(scenario)
	if !ok {
		return Config{}, fmt.Errorf("unknown scenario %q (known: %s)", scenario, PresetNames())
	}
	c := baseConfig()
	c.Scenario = scenario
	if len(urls) > 0 {
		c.URLs = urls
	}
	p.Apply(&c)
	return c, nil
}

// Validate checks a configuration and fills node lists.
func (c *Config) Validate() error {
	if len(c.URLs) == 0 {
		return fmt.Errorf("no node URL (-urls)")
	}
	for i, u := range c.URLs {
		u = strings.TrimRight(strings.TrimSpace(u), "/")
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return fmt.Errorf("node URL %q: want http:// or https://", u)
		}
		c.URLs[i] = u
	}
	if len(c.WatchOn) == 0 {
		for i := range c.URLs {
			c.WatchOn = append(c.WatchOn, i)
		}
	}
	if len(c.BookOn) == 0 {
		for i := range c.URLs {
			c.BookOn = append(c.BookOn, i)
		}
	}
	for _, list := range [][]int{c.WatchOn, c.BookOn} {
		for _, i := range list {
			if i < 0 || i >= len(c.URLs) {
				return fmt.Errorf("node index %d out of range (have %d URLs)", i, len(c.URLs))
			}
		}
	}
	switch {
	case c.Duration <= 0:
		return fmt.Errorf("-duration must be > 0")
	case c.Watchers < 0 || c.Students < 0 || c.Instructors < 1:
		return fmt.Errorf("-watchers, -students must be ≥ 0 and -instructors ≥ 1")
	case c.Rate < 0 || c.GetRate < 0:
		return fmt.Errorf("-rate and -get-rate must be ≥ 0")
	case c.Rate > 0 && c.Students == 0:
		return fmt.Errorf("-rate > 0 needs -students ≥ 1")
	case c.SignedInRatio < 0 || c.SignedInRatio > 1 || c.CancelRatio < 0 || c.CancelRatio > 1 || c.ReplayRatio < 0 || c.ReplayRatio > 1:
		return fmt.Errorf("-signed-in, -cancel-ratio and -replay-ratio are fractions in [0,1]")
	case c.SignedInRatio > 0 && c.Watchers > 0 && c.Students == 0:
		return fmt.Errorf("-signed-in > 0 needs -students ≥ 1 (signed-in watchers use the students' accounts)")
	case c.TopicsPerWatcher < 0:
		return fmt.Errorf("-topics must be ≥ 0")
	case c.Procs < 1:
		return fmt.Errorf("-procs must be ≥ 1")
	case c.DaysAhead < 1 || c.DaysAhead > 60:
		return fmt.Errorf("-days must be in 1..60")
	}
	if c.MaxInFlight < 1 {
		c.MaxInFlight = 1
	}
	if c.ConnectParallel < 1 {
		c.ConnectParallel = 1
	}
	return nil
}
