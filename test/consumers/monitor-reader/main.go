// A monitoring consumer in the manner of nats-top and prometheus-nats-exporter:
// it reads a server's /varz, /connz, /subsz, /jsz, /healthz and /accountz
// into nats-server's own Go types (github.com/nats-io/nats-server/server,
// from Debian's golang-github-nats-io-nats-server-dev), so a field of the
// wrong JSON type fails here as it would fail in those tools. It prints what
// it read, one line per document, for the test to check.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/nats-io/nats-server/server"
)

func get(base, path string, into interface{}) {
	client := http.Client{Timeout: 10 * time.Second}
	res, err := client.Get(base + path)
	if err != nil {
		fail("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		fail("GET %s: %v", path, err)
	}
	if res.StatusCode != http.StatusOK {
		fail("GET %s: HTTP %d: %s", path, res.StatusCode, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		fail("GET %s: %v", path, err)
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: monitor-reader http://host:port")
	}
	base := os.Args[1]

	var v server.Varz
	get(base, "/varz", &v)
	fmt.Printf("varz id=%s version=%s conns=%d total=%d subs=%d in_msgs=%d out_msgs=%d in_bytes=%d out_bytes=%d mem=%d cores=%d uptime=%s start_ok=%t ping_interval=%s max_payload=%d\n",
		v.ID, v.Version, v.Connections, v.TotalConnections, v.Subscriptions, v.InMsgs, v.OutMsgs, v.InBytes, v.OutBytes, v.Mem, v.Cores, v.Uptime, !v.Start.IsZero(), v.PingInterval, v.MaxPayload)

	// nats-top's query: every connection with its subscriptions, sorted by cid.
	var c server.Connz
	get(base, "/connz?subs=1&sort=cid&state=all", &c)
	names := []string{}
	for _, ci := range c.Conns {
		if ci.Start.IsZero() || ci.LastActivity.IsZero() {
			fail("connz: cid %d has no start or last_activity", ci.Cid)
		}
		names = append(names, fmt.Sprintf("%s:%d:%d:%d:%s", ci.Name, len(ci.Subs), ci.InMsgs, ci.OutMsgs, ci.Reason))
	}
	sort.Strings(names)
	fmt.Printf("connz num=%d total=%d conns=%v\n", c.NumConns, c.Total, names)

	var d server.Connz
	get(base, "/connz?subs=detail&limit=1", &d)
	detail := 0
	for _, ci := range d.Conns {
		detail += len(ci.SubsDetail)
	}
	fmt.Printf("connz-detail num=%d limit=%d details=%d\n", d.NumConns, d.Limit, detail)

	var s server.Subsz
	get(base, "/subsz?subs=1", &s)
	fmt.Printf("subsz subs=%d listed=%d cache=%d matches=%d\n", s.NumSubs, len(s.Subs), s.NumCache, s.NumMatches)

	var j server.JSInfo
	get(base, "/jsz?streams=1&consumers=1&config=1", &j)
	streams := []string{}
	for _, a := range j.AccountDetails {
		for _, st := range a.Streams {
			streams = append(streams, fmt.Sprintf("%s:%d:%d", st.Name, st.State.Msgs, len(st.Consumer)))
		}
	}
	sort.Strings(streams)
	fmt.Printf("jsz disabled=%t streams=%d consumers=%d messages=%d detail=%v\n", j.Disabled, j.Streams, j.Consumers, j.Messages, streams)

	var h server.HealthStatus
	get(base, "/healthz", &h)
	fmt.Printf("healthz status=%s\n", h.Status)

	var a server.Accountz
	get(base, "/accountz", &a)
	fmt.Printf("accountz accounts=%d\n", len(a.Accounts))

	// prometheus-nats-exporter turns every numeric /varz field into a gauge.
	var m map[string]interface{}
	get(base, "/varz", &m)
	gauges := 0
	for _, val := range m {
		if _, ok := val.(float64); ok {
			gauges++
		}
	}
	fmt.Printf("exporter gauges=%d\n", gauges)
}
