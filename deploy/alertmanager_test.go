package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAlertmanagerConfigRoutesCriticalToThePager checks the file with
// amtool and asks it which receiver each severity reaches.
func TestAlertmanagerConfigRoutesCriticalToThePager(t *testing.T) {
	amtool := requireTool(t, "amtool", "prometheus-alertmanager")
	run(t, amtool, "check-config", "alertmanager/alertmanager.yml")
	for labels, want := range map[string]string{
		"severity=critical alertname=HubNodeDown": "ops-pager",
		"severity=warning alertname=EmailsLate":   "ops-webhook",
	} {
		args := append([]string{"config", "routes", "test", "--config.file=alertmanager/alertmanager.yml"}, strings.Fields(labels)...)
		out, err := exec.Command(amtool, args...).Output()
		if err != nil {
			t.Fatalf("amtool %v: %v", args, err)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%s routes to %q, want %q", labels, got, want)
		}
	}
	var prom struct {
		Alerting struct {
			Alertmanagers []struct {
				StaticConfigs []struct {
					Targets []string `yaml:"targets"`
				} `yaml:"static_configs"`
			} `yaml:"alertmanagers"`
		} `yaml:"alerting"`
	}
	readYAML(t, "prometheus/prometheus.yml", &prom)
	if len(prom.Alerting.Alertmanagers) == 0 || fmt.Sprint(prom.Alerting.Alertmanagers[0].StaticConfigs) != "[{[alertmanager:9093]}]" {
		t.Fatalf("prometheus.yml sends alerts to %+v, want alertmanager:9093", prom.Alerting.Alertmanagers)
	}
	var compose composeFile
	readYAML(t, "../docker-compose.yml", &compose)
	if am, ok := compose.Services["alertmanager"]; !ok || !strings.Contains(strings.Join(am.Volumes, " "), "./deploy/alertmanager:") {
		t.Fatalf("docker-compose.yml has no alertmanager service mounting deploy/alertmanager")
	}
}

// TestAlertmanagerDeliversACriticalAlertToTheWebhook runs the real
// Alertmanager on this file (webhook URLs pointed at a test server) and
// posts an alert as Prometheus would: the pager webhook receives it.
func TestAlertmanagerDeliversACriticalAlertToTheWebhook(t *testing.T) {
	bin := alertmanagerBinary(t)
	got := make(chan string, 4)
	sink := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.URL.Path + " " + string(b)
	}))
	defer sink.Close()
	cfg, err := os.ReadFile("alertmanager/alertmanager.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(file, bytes.ReplaceAll(cfg, []byte("http://alert-webhook:9095"), []byte(sink.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--config.file="+file, "--storage.path="+dir, "--web.listen-address="+addr, "--cluster.listen-address=")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill() //nolint:errcheck
		cmd.Wait()         //nolint:errcheck
		if t.Failed() {
			t.Logf("alertmanager output:\n%s", logs.String())
		}
	}()
	alert := `[{"labels":{"alertname":"RelayInactive","severity":"critical"},"annotations":{"summary":"No node runs the outbox relay"}}]`
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := nethttp.Post("http://"+addr+"/api/v2/alerts", "application/json", strings.NewReader(alert))
		if err == nil {
			resp.Body.Close() //nolint:errcheck
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager did not accept the alert: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case msg := <-got:
		path, body, _ := strings.Cut(msg, " ")
		var payload struct {
			Receiver string `json:"receiver"`
			Status   string `json:"status"`
			Alerts   []struct {
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		if err := json.Unmarshal([]byte(body), &payload); err != nil {
			t.Fatalf("webhook body %s: %v", body, err)
		}
		if path != "/critical" || payload.Receiver != "ops-pager" || payload.Status != "firing" ||
			len(payload.Alerts) != 1 || payload.Alerts[0].Labels["alertname"] != "RelayInactive" {
			t.Fatalf("webhook got %s %+v, want RelayInactive firing on /critical via ops-pager", path, payload)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook call within 30s (group_wait for critical is 5s)")
	}
}

// alertmanagerBinary is Debian's prometheus-alertmanager or upstream's
// alertmanager.
func alertmanagerBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("prometheus-alertmanager"); err == nil {
		return p
	}
	return requireTool(t, "alertmanager", "prometheus-alertmanager")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
