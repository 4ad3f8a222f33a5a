//! The address a request came from, behind reverse proxies the operator trusts
//! (`MATTERLINE_TRUSTED_PROXIES`, `MATTERLINE_TRUSTED_PROXY_HEADER`).
//!
//! Behind a proxy every TCP connection comes from the proxy, so per-IP limits,
//! audit events and logs would all name one address. A proxy says whom it
//! forwarded for in a header, but any client can send that header too; so the
//! header is read only when the TCP peer is a trusted proxy, and only the hops
//! that trusted proxies appended are believed: the client is the rightmost
//! address in the chain that is not itself a trusted proxy. Anything the
//! chain does not name as an address (`unknown`, an obfuscated `_id`, garbage)
//! stops the walk at the trusted proxy that wrote it.
//!
//! Only one header is read, the one the proxy writes: a proxy that sets
//! `X-Forwarded-For` usually passes a client's own `Forwarded` header on
//! untouched (Caddy and nginx do), so reading both would let a client name
//! itself.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;

/// The proxies whose forwarding headers are believed: addresses and CIDR ranges.
/// Empty (the default) trusts no one, and the TCP peer is always the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses (`192.0.2.10`, `::1`) and
    /// CIDR ranges (`10.0.0.0/8`, `fd00::/8`); blank means none. The error
    /// names the entry that is not one.
    pub fn parse(v: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for entry in v.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            nets.push(parse_entry(entry)?);
        }
        Ok(Self(nets))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is a trusted proxy (an IPv4 address written as IPv6,
    /// `::ffff:10.0.0.1`, counts as the IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: `peer` (the TCP peer) when it is not trusted;
    /// otherwise the rightmost address of `header`'s chain (all its lines, in
    /// order) that is not itself trusted. When every hop is trusted, the
    /// leftmost; when a hop names no address, the trusted proxy that wrote it.
    pub fn client_address<'a>(
        &self,
        peer: IpAddr,
        header: ProxyHeader,
        lines: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<Option<IpAddr>> = match header {
            ProxyHeader::XForwardedFor => {
                lines.into_iter().flat_map(|l| l.split(',')).map(x_forwarded_for_hop).collect()
            }
            ProxyHeader::Forwarded => {
                lines.into_iter().flat_map(|l| split_unquoted(l, ',')).map(forwarded_hop).collect()
            }
        };
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = hop else { return client };
            client = ip.to_canonical();
            if !self.contains(client) {
                return client;
            }
        }
        client
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&shown.join(","))
    }
}

/// An address (a single host) or a CIDR range whose host bits are zero.
fn parse_entry(entry: &str) -> Result<IpNet, String> {
    let not_one =
        || format!("\"{entry}\" is not an IP address or CIDR range (e.g. 10.0.0.0/8, 192.0.2.10, fd00::/8, ::1)");
    if !entry.contains('/') {
        return IpAddr::from_str(entry).map(IpNet::from).map_err(|_| not_one());
    }
    let net = IpNet::from_str(entry).map_err(|_| not_one())?;
    if net.trunc() != net {
        return Err(format!("\"{entry}\" has bits set after its prefix; the range is {}", net.trunc()));
    }
    Ok(net)
}

/// Which header a trusted proxy names the client in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (Caddy, nginx, HAProxy, most load balancers).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for="[2001:db8::1]:4711"` (RFC 7239).
    Forwarded,
}

impl ProxyHeader {
    /// Parses `x-forwarded-for` or `forwarded` (any case).
    pub fn parse(v: &str) -> Result<Self, String> {
        match v.trim().to_ascii_lowercase().as_str() {
            "" | "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            _ => Err("expected x-forwarded-for or forwarded".into()),
        }
    }

    /// The header's name, lower case.
    pub fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }
}

/// One `X-Forwarded-For` entry: an address, maybe with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`), or brackets around an IPv6 address.
fn x_forwarded_for_hop(entry: &str) -> Option<IpAddr> {
    node_address(entry.trim())
}

/// The `for=` node of one `Forwarded` element (`for=192.0.2.60;proto=https;by=…`);
/// `None` when it has none, or it is `unknown`, obfuscated or malformed.
fn forwarded_hop(element: &str) -> Option<IpAddr> {
    let mut found = None;
    for pair in split_unquoted(element, ';') {
        let (name, value) = pair.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("for") {
            if found.is_some() {
                return None; // a parameter may appear once per element (RFC 7239 §4)
            }
            found = Some(unquote(value.trim())?);
        }
    }
    node_address(&found?)
}

/// A node (RFC 7239 §6): `192.0.2.1`, `192.0.2.1:80`, `[2001:db8::1]`,
/// `[2001:db8::1]:80`; a bare IPv6 address (as X-Forwarded-For carries it) too.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = IpAddr::from_str(node) {
        return Some(ip);
    }
    if let Ok(addr) = SocketAddr::from_str(node) {
        return Some(addr.ip());
    }
    let inner = node.strip_prefix('[')?.strip_suffix(']')?;
    inner.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
}

/// A token as written, or a quoted-string without its quotes and escapes;
/// `None` for an unterminated quote.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else { return Some(value.to_owned()) };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return chars.as_str().trim().is_empty().then_some(out),
            c => out.push(c),
        }
    }
    None
}

/// Splits `text` on `sep` where it is not inside a quoted-string.
fn split_unquoted(text: &str, sep: char) -> Vec<&str> {
    let (mut parts, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|_| panic!("{s} is not an address"))
    }

    fn trusted(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap_or_else(|e| panic!("{e}"))
    }

    fn xff(proxies: &TrustedProxies, peer: &str, lines: &[&str]) -> IpAddr {
        proxies.client_address(ip(peer), ProxyHeader::XForwardedFor, lines.iter().copied())
    }

    fn fwd(proxies: &TrustedProxies, peer: &str, lines: &[&str]) -> IpAddr {
        proxies.client_address(ip(peer), ProxyHeader::Forwarded, lines.iter().copied())
    }

    #[test]
    fn addresses_and_ranges_are_read_and_a_bad_entry_is_named() {
        let list = trusted(" 10.0.0.0/8, 192.0.2.10 ,fd00::/8,::1,");
        assert_eq!(list.to_string(), "10.0.0.0/8,192.0.2.10/32,fd00::/8,::1/128");
        for inside in ["10.1.2.3", "192.0.2.10", "fd12::7", "::1", "::ffff:10.9.9.9"] {
            assert!(list.contains(ip(inside)), "{inside}");
        }
        for outside in ["11.0.0.1", "192.0.2.11", "fe80::1", "::2", "::ffff:192.0.2.11"] {
            assert!(!list.contains(ip(outside)), "{outside}");
        }
        assert!(trusted("").is_empty() && trusted(" , ").is_empty());
        for (bad, named) in [
            ("10.0.0.300", "\"10.0.0.300\" is not an IP address or CIDR range"),
            ("10.0.0.0/8, proxy.internal", "\"proxy.internal\" is not"),
            ("10.0.0.0/33", "\"10.0.0.0/33\" is not"),
            ("10.0.0.0/", "\"10.0.0.0/\" is not"),
            ("10.1.2.3/8", "\"10.1.2.3/8\" has bits set after its prefix; the range is 10.0.0.0/8"),
            ("192.0.2.1:8080", "\"192.0.2.1:8080\" is not"),
        ] {
            let err = TrustedProxies::parse(bad).err().unwrap_or_default();
            assert!(err.starts_with(named), "{bad}: {err}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let none = TrustedProxies::default();
        assert_eq!(xff(&none, "127.0.0.1", &["203.0.113.7"]), ip("127.0.0.1"));
        assert_eq!(fwd(&none, "127.0.0.1", &["for=203.0.113.7"]), ip("127.0.0.1"));
        let list = trusted("10.0.0.0/8");
        assert_eq!(xff(&list, "198.51.100.4", &["10.0.0.2"]), ip("198.51.100.4"));
        assert_eq!(xff(&list, "::ffff:198.51.100.4", &["203.0.113.7"]), ip("198.51.100.4"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let list = trusted("10.0.0.0/8, 127.0.0.1");
        // Whatever the client wrote on the left is passed over.
        assert_eq!(xff(&list, "127.0.0.1", &["6.6.6.6, 203.0.113.7"]), ip("203.0.113.7"));
        assert_eq!(xff(&list, "127.0.0.1", &["203.0.113.7, 10.0.0.5,10.0.0.6"]), ip("203.0.113.7"));
        // Several header lines are one list, in order.
        assert_eq!(xff(&list, "10.0.0.1", &["6.6.6.6", "203.0.113.7, 10.0.0.5"]), ip("203.0.113.7"));
        assert_eq!(xff(&list, "10.0.0.1", &["203.0.113.7", ""]), ip("10.0.0.1"), "an empty hop names no one");
        // Ports and brackets, IPv6, and IPv4 written as IPv6.
        assert_eq!(xff(&list, "10.0.0.1", &["203.0.113.7:4711"]), ip("203.0.113.7"));
        assert_eq!(xff(&list, "10.0.0.1", &["[2001:db8::17]:4711"]), ip("2001:db8::17"));
        assert_eq!(xff(&list, "10.0.0.1", &["2001:db8::17"]), ip("2001:db8::17"));
        assert_eq!(xff(&list, "10.0.0.1", &["[2001:db8::17]"]), ip("2001:db8::17"));
        assert_eq!(xff(&list, "10.0.0.1", &["::ffff:203.0.113.7"]), ip("203.0.113.7"));
        // No header, or every hop trusted: the leftmost known.
        assert_eq!(xff(&list, "10.0.0.1", &[]), ip("10.0.0.1"));
        assert_eq!(xff(&list, "10.0.0.1", &["10.0.0.9, 10.0.0.8"]), ip("10.0.0.9"));
    }

    #[test]
    fn a_hop_that_names_no_address_stops_at_the_proxy_that_wrote_it() {
        let list = trusted("10.0.0.0/8");
        for garbage in [
            "unknown",
            "_hidden",
            "not an address",
            "203.0.113.7.1",
            "[203.0.113.7]",
            "\"203.0.113.7\"",
            "2001:db8::17:99999",
        ] {
            assert_eq!(xff(&list, "10.0.0.1", &[&format!("198.51.100.1, {garbage}")]), ip("10.0.0.1"), "{garbage}");
            assert_eq!(xff(&list, "10.0.0.1", &[&format!("{garbage}, 10.0.0.3")]), ip("10.0.0.3"), "{garbage}");
        }
        // Garbage left of the client's hop is never reached.
        assert_eq!(xff(&list, "10.0.0.1", &["junk;;, 203.0.113.7"]), ip("203.0.113.7"));
    }

    #[test]
    fn forwarded_elements_are_read_as_rfc_7239_writes_them() {
        let list = trusted("10.0.0.0/8");
        let client = |lines: &[&str]| fwd(&list, "10.0.0.1", lines);
        assert_eq!(client(&["for=192.0.2.60;proto=http;by=203.0.113.43"]), ip("192.0.2.60"));
        assert_eq!(client(&["For=\"[2001:db8:cafe::17]:4711\""]), ip("2001:db8:cafe::17"));
        assert_eq!(client(&["for=\"[2001:db8:cafe::17]\""]), ip("2001:db8:cafe::17"));
        assert_eq!(client(&["for=\"192.0.2.43:47011\""]), ip("192.0.2.43"));
        assert_eq!(client(&["proto=https; for=192.0.2.43 ; by=10.0.0.1"]), ip("192.0.2.43"));
        assert_eq!(client(&["for=192.0.2.43, for=198.51.100.17;by=10.0.0.1"]), ip("198.51.100.17"));
        assert_eq!(client(&["for=192.0.2.43", "for=198.51.100.17, for=10.0.0.7"]), ip("198.51.100.17"));
        // A comma or semicolon inside a quoted value does not split it.
        assert_eq!(client(&["for=192.0.2.43;ext=\"a, b; c\", for=198.51.100.17"]), ip("198.51.100.17"));
        assert_eq!(client(&["for=198.51.100.17;ext=\"a, b\\\"; c\""]), ip("198.51.100.17"));
        // Names no address: stops at the trusted proxy that wrote it.
        for hop in [
            "for=unknown",
            "for=_hidden",
            "for=\"_gazonk\"",
            "for=\"[2001:db8::1\"",
            "proto=https",
            "for=192.0.2.43;for=198.51.100.1",
            "for=192.0.2.43;garbage",
            "for=2001:db8::1:4711:x",
            "",
        ] {
            assert_eq!(client(&[&format!("for=6.6.6.6, {hop}")]), ip("10.0.0.1"), "{hop}");
            assert_eq!(client(&[&format!("{hop}, for=10.0.0.4")]), ip("10.0.0.4"), "{hop}");
        }
        // An unterminated quote swallows the rest of its line: no hop of it is believed.
        assert_eq!(client(&["for=\"192.0.2.43, for=198.51.100.17"]), ip("10.0.0.1"));
        assert_eq!(client(&["for=198.51.100.17", "for=\"192.0.2.43, for=10.0.0.4"]), ip("10.0.0.1"));
    }

    #[test]
    fn only_the_named_header_is_read() {
        let list = trusted("10.0.0.0/8");
        // X-Forwarded-For lines read as Forwarded name nobody, and the reverse.
        assert_eq!(fwd(&list, "10.0.0.1", &["203.0.113.7"]), ip("10.0.0.1"));
        assert_eq!(xff(&list, "10.0.0.1", &["for=203.0.113.7"]), ip("10.0.0.1"));
        assert_eq!(ProxyHeader::parse(" Forwarded "), Ok(ProxyHeader::Forwarded));
        assert_eq!(ProxyHeader::parse("X-Forwarded-For"), Ok(ProxyHeader::XForwardedFor));
        assert!(ProxyHeader::parse("x-real-ip").is_err());
    }
}
