package deploy

import (
	"slices"
	"testing"
)

// alertTests is the part of prometheus/alerts_test.yml this test reads.
type alertTests struct {
	Tests []struct {
		Name  string `yaml:"name"`
		Cases []struct {
			Alert string `yaml:"alertname"`
			Exp   []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestEveryAlertRuleHasAUnitTestThatFiresIt: a rule no promtool test
// fires may never fire at all (a typo in a label, a rate over a counter
// that is born at 1); each must be shown firing, with its rendered text,
// in alerts_test.yml (which TestPromtoolAcceptsConfigRulesAndDashboardQueries runs).
func TestEveryAlertRuleHasAUnitTestThatFiresIt(t *testing.T) {
	var rf ruleFile
	readYAML(t, "prometheus/alerts.yml", &rf)
	var at alertTests
	readYAML(t, "prometheus/alerts_test.yml", &at)
	fired := map[string]bool{}
	for _, tc := range at.Tests {
		for _, c := range tc.Cases {
			if len(c.Exp) > 0 {
				fired[c.Alert] = true
			}
		}
	}
	var rules, missing []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			rules = append(rules, r.Alert)
			if !fired[r.Alert] {
				missing = append(missing, r.Alert)
			}
		}
	}
	for name := range fired {
		if !slices.Contains(rules, name) {
			t.Errorf("alerts_test.yml fires %s, which alerts.yml does not define", name)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d alert rules are never shown firing in alerts_test.yml: %v", len(missing), len(rules), missing)
	}
	for _, want := range []string{"RelayInactive", "EmailsLate", "FileDescriptorsNearLimit", "ConnectionsShed"} {
		if !slices.Contains(rules, want) {
			t.Errorf("no %s alert", want)
		}
	}
}
