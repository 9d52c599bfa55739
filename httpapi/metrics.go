package httpapi

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the Prometheus metrics of one server.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// SeatsFunc reports seats in use per license, summed over accounts.
type SeatsFunc func(ctx context.Context) (map[string]int, error)

// NewMetrics registers the server's metrics; seats, when not nil, is
// called at each scrape for seatkeeper_seats_in_use.
func NewMetrics(seats SeatsFunc) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatkeeper_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "seatkeeper_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	m.registry.MustRegister(m.requests, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if seats != nil {
		m.registry.MustRegister(&seatCollector{seats: seats, desc: prometheus.NewDesc(
			"seatkeeper_seats_in_use", "Seats held by active users, per license, over all accounts.", []string{"license"}, nil)})
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

type seatCollector struct {
	seats SeatsFunc
	desc  *prometheus.Desc
}

func (c *seatCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *seatCollector) Collect(ch chan<- prometheus.Metric) {
	seats, err := c.seats(context.Background())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for license, n := range seats {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), license)
	}
}
