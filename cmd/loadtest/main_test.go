package main

import (
	"bytes"
	"strings"
	"testing"
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
