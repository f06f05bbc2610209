package config

import (
	"testing"
)

func TestPresetsAreValidAndFanoutSplitsNodes(t *testing.T) {
	for _, p := range Presets {
		c, err := NewConfig(p.Name, []string{"http://127.0.0.1:1", "http://127.0.0.1:2"})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
	c, _ := NewConfig("fanout", []string{"http://a", "http://b"})
	if c.WatchOn[0] != 0 || c.BookOn[0] != 1 || c.Watchers != 10000 {
		t.Errorf("fanout: watch %v book %v watchers %d", c.WatchOn, c.BookOn, c.Watchers)
	}
	if _, err := NewConfig("nope", nil); err == nil {
		t.Error("unknown scenario accepted")
	}
}
