// Package deploy holds the files that docker-compose.yml runs the stack with:
// Prometheus's scrape config and alert rules (prometheus/), Grafana's
// provisioning and dashboards (grafana/) and the load balancer (nginx/).
// It has no Go code of its own; its tests check that these files agree with
// each other and with the metrics the hub exports, and run promtool and
// docker-compose on them when installed (deploy/check.sh installs both).
package deploy
