// A HashiCorp memberlist peer with DefaultLANConfig timers (the MetalLB baseline), or with timers given
// by flags (to compare at equal timers with a Herald profile), for the side-by-side benchmark in
// bench/membership/run.ts. Built offline from Debian packages at bench time:
//
//	env GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOCACHE=$(mktemp -d) go build -o DIR/mlpeer .
//
// Prints one JSON object per line on stdout, the same shape as Herald's agent:
// {"t":<epoch ms>,"ev":"ready"|"join"|"dead"|"leave"|"update","node":...}.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/memberlist"
)

var outMu sync.Mutex

func emit(fields map[string]interface{}) {
	fields["t"] = time.Now().UnixNano() / int64(time.Millisecond)
	b, _ := json.Marshal(fields)
	outMu.Lock()
	os.Stdout.Write(append(b, '\n'))
	outMu.Unlock()
}

type events struct{}

func (events) NotifyJoin(n *memberlist.Node) {
	emit(map[string]interface{}{"ev": "join", "node": n.Name})
}
func (events) NotifyLeave(n *memberlist.Node) {
	ev := "dead"
	if n.State == memberlist.StateLeft {
		ev = "leave"
	}
	emit(map[string]interface{}{"ev": ev, "node": n.Name})
}
func (events) NotifyUpdate(n *memberlist.Node) {
	emit(map[string]interface{}{"ev": "update", "node": n.Name})
}

func main() {
	name := flag.String("name", "", "member name")
	bind := flag.String("bind", "127.0.0.1", "bind address")
	port := flag.Int("port", 7946, "bind port (UDP+TCP)")
	join := flag.String("join", "", "comma-separated seeds host:port")
	// Zero keeps DefaultLANConfig's value.
	probeInterval := flag.Int("probe-interval-ms", 0, "ProbeInterval")
	probeTimeout := flag.Int("probe-timeout-ms", 0, "ProbeTimeout")
	indirect := flag.Int("indirect-checks", 0, "IndirectChecks")
	gossipInterval := flag.Int("gossip-interval-ms", 0, "GossipInterval")
	gossipNodes := flag.Int("gossip-nodes", 0, "GossipNodes")
	gossipToDead := flag.Int("gossip-to-the-dead-ms", 0, "GossipToTheDeadTime")
	suspicionMult := flag.Int("suspicion-mult", 0, "SuspicionMult")
	suspicionMax := flag.Int("suspicion-max-timeout-mult", 0, "SuspicionMaxTimeoutMult")
	retransmitMult := flag.Int("retransmit-mult", 0, "RetransmitMult")
	awarenessMax := flag.Int("awareness-max-multiplier", 0, "AwarenessMaxMultiplier")
	pushPull := flag.Int("push-pull-ms", 0, "PushPullInterval")
	tcpTimeout := flag.Int("tcp-timeout-ms", 0, "TCPTimeout")
	flag.Parse()
	if *name == "" {
		fmt.Fprintln(os.Stderr, "mlpeer: -name is required")
		os.Exit(2)
	}
	cfg := memberlist.DefaultLANConfig()
	cfg.Name = *name
	cfg.BindAddr = *bind
	cfg.BindPort = *port
	cfg.AdvertiseAddr = *bind
	cfg.AdvertisePort = *port
	cfg.Events = events{}
	cfg.Logger = log.New(io.Discard, "", 0)
	ms := func(v int, d *time.Duration) {
		if v > 0 {
			*d = time.Duration(v) * time.Millisecond
		}
	}
	n := func(v int, d *int) {
		if v > 0 {
			*d = v
		}
	}
	ms(*probeInterval, &cfg.ProbeInterval)
	ms(*probeTimeout, &cfg.ProbeTimeout)
	n(*indirect, &cfg.IndirectChecks)
	ms(*gossipInterval, &cfg.GossipInterval)
	n(*gossipNodes, &cfg.GossipNodes)
	ms(*gossipToDead, &cfg.GossipToTheDeadTime)
	n(*suspicionMult, &cfg.SuspicionMult)
	n(*suspicionMax, &cfg.SuspicionMaxTimeoutMult)
	n(*retransmitMult, &cfg.RetransmitMult)
	n(*awarenessMax, &cfg.AwarenessMaxMultiplier)
	ms(*pushPull, &cfg.PushPullInterval)
	ms(*tcpTimeout, &cfg.TCPTimeout)
	ml, err := memberlist.Create(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mlpeer:", err)
		os.Exit(1)
	}
	joined := 0
	if *join != "" {
		joined, err = ml.Join(strings.Split(*join, ","))
		if err != nil {
			emit(map[string]interface{}{"ev": "joinError", "error": err.Error()})
		}
	}
	emit(map[string]interface{}{"ev": "ready", "name": *name, "port": *port, "joined": joined, "pid": os.Getpid()})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	ml.Shutdown()
}
