package main

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"instainstru/loadtest/config"
)

func TestRealMainExplainsFlagsAndRejectsBadOnes(t *testing.T) {
	var out, errb bytes.Buffer
	if code := realMain([]string{"-h"}, &out, &errb); code != 0 {
		t.Fatalf("-h exit %d", code)
	}
	for _, want := range []string{"booking-storm", "fanout", "idle-conns", "smoke", "-rate", "open-loop", "Exit status"} {
		if !strings.Contains(errb.String(), want) && !strings.Contains(strings.ToLower(errb.String()), strings.ToLower(want)) {
			t.Errorf("-h does not mention %q", want)
		}
	}
	cases := [][]string{
		{"-scenario", "nope"},
		{"-scenario", "smoke", "-signed-in", "2"},
		{"-scenario", "smoke", "-watch-nodes", "5"},
		{"-scenario", "smoke", "-urls", "ftp://x"},
		{"extra-arg"},
	}
	for _, args := range cases {
		errb.Reset()
		if code := realMain(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
}

// TestEveryOverrideFlagReplacesItsPresetField gives every override flag a
// value no preset has and checks each lands in its field, and that flags
// not given leave the preset's values.
func TestEveryOverrideFlagReplacesItsPresetField(t *testing.T) {
	var errb bytes.Buffer
	args := []string{"-scenario", "smoke", "-urls", "http://a:1,http://b:2,http://c:3",
		"-watch-nodes", "2,1", "-booking-nodes", "0", "-duration", "7s", "-drain", "8s",
		"-watchers", "41", "-signed-in", "0.25", "-instructors", "6", "-topics", "3", "-students", "9",
		"-rate", "12.5", "-poisson", "-cancel-ratio", "0.75", "-cancel-after", "1500ms", "-get-rate", "4.5",
		"-replay-ratio", "0.125", "-mail-off", "-days", "5", "-max-in-flight", "77", "-connect-parallel", "13",
		"-timeout", "3s", "-password", "pw", "-instructor-emails", "a@x, b@x", "-email-domain", "d.test",
		"-cleanup=false", "-create-instructors=false", "-procs", "4", "-source-ips", "127.0.0.9,127.0.0.10",
		"-settle", "2s", "-run-id", "00ff", "-seed", "99", "-strict",
		"-monitoring-key", "k", "-json", "r.json", "-html", "r.html", "-quiet"}
	cfg, _, code := parseArgs(args, &errb)
	if code != -1 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := config.Config{Scenario: "smoke", URLs: []string{"http://a:1", "http://b:2", "http://c:3"},
		WatchOn: []int{2, 1}, BookOn: []int{0}, Duration: 7 * time.Second, Drain: 8 * time.Second,
		Watchers: 41, SignedInRatio: 0.25, Instructors: 6, TopicsPerWatcher: 3, Students: 9,
		Rate: 12.5, Poisson: true, CancelRatio: 0.75, CancelAfter: 1500 * time.Millisecond, GetRate: 4.5,
		ReplayRatio: 0.125, MailOff: true, DaysAhead: 5, MaxInFlight: 77, ConnectParallel: 13,
		RequestTimeout: 3 * time.Second, Password: "pw", InstructorEmails: []string{"a@x", "b@x"}, EmailDomain: "d.test",
		MonitoringKey: "k", Procs: 4, SourceIPs: []string{"127.0.0.9", "127.0.0.10"}, Settle: 2 * time.Second,
		RunID: "00ff", Strict: true, JSONPath: "r.json", HTMLPath: "r.html", Quiet: true, Seed: 99}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config\n got %+v\nwant %+v", cfg, want)
	}

	preset, _ := config.NewConfig("booking-storm", []string{"http://a:1"})
	cfg, _, code = parseArgs([]string{"-scenario", "booking-storm", "-urls", "http://a:1", "-conns", "17", "-run-id", "0a"}, &errb)
	if code != -1 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	preset.Watchers, preset.RunID, preset.Seed, preset.MonitoringKey = 17, "0a", 10, cfg.MonitoringKey
	if !reflect.DeepEqual(cfg, preset) {
		t.Errorf("flags not given changed the preset:\n got %+v\nwant %+v", cfg, preset)
	}
}
