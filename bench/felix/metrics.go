package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/node/autodetect"
)

// metricsPort is where Felix serves Prometheus metrics, on the node
// namespace's loopback.
const metricsPort = 9091

// felixConfig is the FelixConfiguration "default": Felix's metrics on, IPv6 off.
func felixConfig() *v3.FelixConfiguration {
	fc := v3.NewFelixConfiguration()
	fc.Name = "default"
	on, port := true, metricsPort
	fc.Spec.PrometheusMetricsEnabled, fc.Spec.PrometheusMetricsPort = &on, &port
	// As manifests/tricolor.yaml (and Calico's calico.yaml) set
	// FELIX_IPV6SUPPORT=false for an IPv4 cluster; the latency phase is
	// rerun with it true (setIPv6Support).
	fc.Spec.IPv6Support = new(false)
	return fc
}

// histogram is a Prometheus histogram's running sum and count.
type histogram struct{ sum, count float64 }

// minus is the histogram of the observations since earlier.
func (h histogram) minus(earlier histogram) histogram {
	return histogram{h.sum - earlier.sum, h.count - earlier.count}
}

// felixTimes are the histograms the latency table breaks down.
type felixTimes struct{ apply, calc histogram }

// scrapeFelix reads Felix's apply and calc histograms from inside the node
// namespace (the metrics listen on its loopback).
func scrapeFelix(nodeNS string) (felixTimes, error) {
	var body string
	err := autodetect.InNetns(nodeNS, func() error {
		c, err := net.DialTimeout("tcp4", fmt.Sprintf("127.0.0.1:%d", metricsPort), 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n"); err != nil {
			return err
		}
		b, err := io.ReadAll(c)
		body = string(b)
		return err
	})
	if err != nil {
		return felixTimes{}, fmt.Errorf("scrape Felix metrics in %s: %w", nodeNS, err)
	}
	var t felixTimes
	fields := map[string]*float64{
		"felix_int_dataplane_apply_time_seconds_sum":   &t.apply.sum,
		"felix_int_dataplane_apply_time_seconds_count": &t.apply.count,
		"felix_calc_graph_update_time_seconds_sum":     &t.calc.sum,
		"felix_calc_graph_update_time_seconds_count":   &t.calc.count,
	}
	found := 0
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if p := fields[name]; ok && p != nil {
			if *p, err = strconv.ParseFloat(val, 64); err != nil {
				return t, fmt.Errorf("metric %s: %w", name, err)
			}
			found++
		}
	}
	if found != len(fields) {
		return t, fmt.Errorf("Felix metrics lack the apply/calc histograms:\n%s", body)
	}
	return t, nil
}
