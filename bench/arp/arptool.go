// arptool: raw AF_PACKET helpers for bench/arp (Go standard library only, builds offline).
//
//	arptool respond -i IF -vip IP -mac MAC          userspace ARP responder (the MetalLB model:
//	                                                 every ARP frame is read in userspace, checked, answered)
//	arptool latency -i IF -target IP -n N            N sequential requests; JSON with RTT percentiles
//	arptool flood   -i IF -target IP -spa IP -ms D [-rate R] [-noread]  requests for D ms (R/s, 0 = as fast
//	                                                 as possible); JSON with sent/received counts (-noread: the
//	                                                 replies are not read here, received is 0; the CPU bench
//	                                                 counts them with an XDP sink instead)
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"sync/atomic"
	"syscall"
	"time"
)

const ethPArp = 0x0806

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "arptool:", err)
		os.Exit(1)
	}
}

func openSocket(ifname string) (int, *net.Interface) {
	ifi, err := net.InterfaceByName(ifname)
	must(err)
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(ethPArp)))
	must(err)
	must(syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(ethPArp), Ifindex: ifi.Index}))
	must(syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<20))
	return fd, ifi
}

// onlyRepliesTo attaches a classic BPF filter so the socket queues only ARP replies whose target
// protocol address is spa: a flood's replies then never sit in front of the latency probe's.
func onlyRepliesTo(fd int, spa net.IP) {
	want := binary.BigEndian.Uint32(spa.To4())
	prog := []syscall.SockFilter{
		{Code: 0x28, K: 20},                 // ldh [20]  (ARP opcode)
		{Code: 0x15, Jt: 0, Jf: 3, K: 2},    // jeq #2 (reply) ? next : drop
		{Code: 0x20, K: 38},                 // ld [38]   (target protocol address)
		{Code: 0x15, Jt: 0, Jf: 1, K: want}, // jeq #spa ? accept : drop
		{Code: 0x06, K: 0xffff},             // ret #65535
		{Code: 0x06, K: 0},                  // ret #0
	}
	must(syscall.AttachLsf(fd, prog))
}

func request(src net.HardwareAddr, spa, tpa net.IP) []byte {
	f := make([]byte, 60)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], src)
	binary.BigEndian.PutUint16(f[12:], ethPArp)
	binary.BigEndian.PutUint16(f[14:], 1)
	binary.BigEndian.PutUint16(f[16:], 0x0800)
	f[18], f[19] = 6, 4
	binary.BigEndian.PutUint16(f[20:], 1)
	copy(f[22:28], src)
	copy(f[28:32], spa.To4())
	copy(f[38:42], tpa.To4())
	return f
}

// isReply reports whether f is an ARP reply "vip is-at ..." addressed to our sender address spa (so
// the latency and flood runs, which use different sender addresses, never count each other's replies).
func isReply(f []byte, vip, spa net.IP) bool {
	return len(f) >= 42 && binary.BigEndian.Uint16(f[12:]) == ethPArp &&
		binary.BigEndian.Uint16(f[20:]) == 2 && net.IP(f[28:32]).Equal(vip) && net.IP(f[38:42]).Equal(spa)
}

func ifaceIPv4(ifi *net.Interface) net.IP {
	addrs, err := ifi.Addrs()
	must(err)
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			return n.IP.To4()
		}
	}
	must(fmt.Errorf("%s has no IPv4 address", ifi.Name))
	return nil
}

func respond(ifname, vipText, macText string) {
	fd, ifi := openSocket(ifname)
	vip := net.ParseIP(vipText).To4()
	mac, err := net.ParseMAC(macText)
	must(err)
	to := &syscall.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}
	buf := make([]byte, 2048)
	for {
		n, from, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			continue
		}
		if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Pkttype == syscall.PACKET_OUTGOING {
			continue
		}
		f := buf[:n]
		if n < 42 || binary.BigEndian.Uint16(f[20:]) != 1 || !net.IP(f[38:42]).Equal(vip) {
			continue
		}
		reply := make([]byte, n)
		copy(reply, f)
		copy(reply[0:6], f[22:28])
		copy(reply[6:12], mac)
		binary.BigEndian.PutUint16(reply[20:], 2)
		copy(reply[22:28], mac)
		copy(reply[28:32], vip)
		copy(reply[32:38], f[22:28])
		copy(reply[38:42], f[28:32])
		copy(to.Addr[:], f[22:28])
		_ = syscall.Sendto(fd, reply, 0, to)
	}
}

func latency(ifname, target string, n int) {
	fd, ifi := openSocket(ifname)
	tv := syscall.NsecToTimeval(int64(50 * time.Millisecond))
	must(syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv))
	vip := net.ParseIP(target).To4()
	spa := ifaceIPv4(ifi)
	onlyRepliesTo(fd, spa)
	req := request(ifi.HardwareAddr, spa, vip)
	to := &syscall.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}
	copy(to.Addr[:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	buf := make([]byte, 2048)
	rtts := make([]float64, 0, n)
	lost := 0
	for i := 0; i < n; i++ {
		start := time.Now()
		must(syscall.Sendto(fd, req, 0, to))
		got := false
		for time.Since(start) < 50*time.Millisecond {
			m, _, err := syscall.Recvfrom(fd, buf, 0)
			if err != nil {
				break
			}
			if isReply(buf[:m], vip, spa) {
				rtts = append(rtts, float64(time.Since(start).Nanoseconds())/1000)
				got = true
				break
			}
		}
		if !got {
			lost++
		}
		time.Sleep(200 * time.Microsecond)
	}
	sort.Float64s(rtts)
	pct := func(p float64) float64 {
		if len(rtts) == 0 {
			return -1
		}
		return rtts[int(p*float64(len(rtts)-1))]
	}
	out := map[string]interface{}{"sent": n, "received": len(rtts), "lost": lost,
		"p50Us": pct(0.5), "p99Us": pct(0.99), "maxUs": pct(1)}
	must(json.NewEncoder(os.Stdout).Encode(out))
}

func flood(ifname, target, spaText string, ms int, rate int, noread bool) {
	fd, ifi := openSocket(ifname)
	tv := syscall.NsecToTimeval(int64(100 * time.Millisecond))
	must(syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv))
	vip := net.ParseIP(target).To4()
	spa := net.ParseIP(spaText).To4()
	onlyRepliesTo(fd, spa)
	req := request(ifi.HardwareAddr, spa, vip)
	to := &syscall.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}
	copy(to.Addr[:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	var received int64
	var stop int32
	done := make(chan struct{})
	if noread {
		atomic.StoreInt32(&stop, 1)
	}
	go func() {
		buf := make([]byte, 2048)
		for atomic.LoadInt32(&stop) == 0 {
			m, _, err := syscall.Recvfrom(fd, buf, 0)
			if err == nil && isReply(buf[:m], vip, spa) {
				atomic.AddInt64(&received, 1)
			}
		}
		close(done)
	}()
	start := time.Now()
	deadline := start.Add(time.Duration(ms) * time.Millisecond)
	sent := 0
	for time.Now().Before(deadline) {
		for k := 0; k < 64; k++ {
			if syscall.Sendto(fd, req, 0, to) == nil {
				sent++
			}
		}
		if rate > 0 {
			want := time.Duration(float64(sent) / float64(rate) * float64(time.Second))
			if d := want - time.Since(start); d > 0 {
				time.Sleep(d)
			}
		}
	}
	elapsed := time.Since(start).Seconds()
	if !noread {
		time.Sleep(200 * time.Millisecond) // replies in flight
	}
	atomic.StoreInt32(&stop, 1)
	<-done
	got := atomic.LoadInt64(&received)
	out := map[string]interface{}{"sent": sent, "received": got, "seconds": elapsed,
		"sentPerSec": float64(sent) / elapsed, "repliesPerSec": float64(got) / elapsed,
		"lossRatio": 1 - float64(got)/float64(sent)}
	must(json.NewEncoder(os.Stdout).Encode(out))
}

func main() {
	if len(os.Args) < 2 {
		must(fmt.Errorf("usage: arptool respond|latency|flood ..."))
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	ifname := fs.String("i", "", "interface")
	vip := fs.String("vip", "", "VIP (respond)")
	mac := fs.String("mac", "", "MAC to answer with (respond)")
	target := fs.String("target", "", "address to ask for")
	n := fs.Int("n", 1000, "requests (latency)")
	ms := fs.Int("ms", 1000, "duration in ms (flood)")
	rate := fs.Int("rate", 0, "requests per second, 0 = max (flood)")
	spa := fs.String("spa", "", "sender IPv4 address of the flood requests (flood)")
	noread := fs.Bool("noread", false, "do not read the replies (flood)")
	must(fs.Parse(os.Args[2:]))
	switch os.Args[1] {
	case "respond":
		respond(*ifname, *vip, *mac)
	case "latency":
		latency(*ifname, *target, *n)
	case "flood":
		flood(*ifname, *target, *spa, *ms, *rate, *noread)
	default:
		must(fmt.Errorf("unknown command %s", os.Args[1]))
	}
}
