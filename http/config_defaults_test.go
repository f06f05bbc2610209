package http

import (
	"reflect"
	"testing"
	"time"
)

// New fills every zero field of Config from DefaultConfig and keeps what
// the caller set, including a negative ResetRequestFloor (turned off).
func TestDefaultConfigFillsOnlyZeroFields(t *testing.T) {
	var c Config
	c.setDefaults()
	if !reflect.DeepEqual(c, DefaultConfig()) {
		t.Fatalf("zero Config after defaults:\n%+v\nwant DefaultConfig:\n%+v", c, DefaultConfig())
	}
	if c.RedisPrefix != "ii:" || c.LoginPerIPPerMinute != 100 || c.AccessTTL != 15*time.Minute {
		t.Fatalf("defaults changed: prefix %q, login %d, access %v", c.RedisPrefix, c.LoginPerIPPerMinute, c.AccessTTL)
	}
	set := Config{Env: "test", LoginPerIPPerMinute: 7, ResetRequestFloor: -1, RedisPrefix: "x:"}
	set.setDefaults()
	if set.Env != "test" || set.LoginPerIPPerMinute != 7 || set.ResetRequestFloor != -1 || set.RedisPrefix != "x:" {
		t.Fatalf("set fields were overwritten: %+v", set)
	}
	if set.TokenPerIPPerMinute != 300 || set.BodyLimit != 64<<10 {
		t.Fatalf("unset fields not defaulted: token %d, body %d", set.TokenPerIPPerMinute, set.BodyLimit)
	}
	edge := Config{Edge: EdgeLimits{WSPerUser: 3}}
	edge.setDefaults()
	if want := (EdgeLimits{WSPerUser: 3, WSPerAddress: 50, WSTopicsPerAddress: 500}); edge.Edge != want {
		t.Fatalf("a partly set Edge = %+v, want %+v (the rest from DefaultConfig)", edge.Edge, want)
	}
}
