package http

import (
	"bytes"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// trustedProxies are the peers whose X-Forwarded-For is believed.
type trustedProxies []netip.Prefix

// parseTrustedProxies reads IPs and CIDRs; entries that are neither are
// returned in bad so the caller can say so.
func parseTrustedProxies(list []string) (tp trustedProxies, bad []string) {
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			tp = append(tp, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			a = a.Unmap()
			tp = append(tp, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		bad = append(bad, s)
	}
	return tp, bad
}

func (tp trustedProxies) contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range tp {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the address rate limits are keyed by. The socket's peer is the
// client unless the peer is a trusted proxy; then X-Forwarded-For is read
// from the right (each proxy appends the address it saw) and the first
// address that is not a trusted proxy is the client. Everything to its left
// was written by the client and is never believed. A trusted peer that sent
// no usable header is itself the client.
func (s *Server) clientIP(c *fiber.Ctx) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return c.Context().RemoteIP().String()
	}
	peer = peer.Unmap()
	if !s.proxies.contains(peer) {
		return peer.String()
	}
	var hops []string
	c.Request().Header.VisitAll(func(k, v []byte) {
		if bytes.EqualFold(k, []byte(fiber.HeaderXForwardedFor)) {
			hops = append(hops, strings.Split(string(v), ",")...)
		}
	})
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage from the client side: stop at the last trusted hop
		}
		client = a.Unmap()
		if !s.proxies.contains(client) {
			break
		}
	}
	return client.String()
}
