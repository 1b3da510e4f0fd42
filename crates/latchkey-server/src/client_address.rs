//! The address a request came from. Behind a reverse proxy every connection comes from the proxy, so the
//! proxy's record of the client (`Forwarded`, RFC 7239, or `X-Forwarded-For`) is read, but only when the
//! connection's peer is a proxy the operator trusts: anyone else could write those headers to pick the
//! address their attempts are counted against. Only the one header the proxy writes is read
//! ([`ForwardedHeader`]): proxies pass the other through untouched, so it would be the client's own claim.

use std::net::IpAddr;

/// A network in CIDR notation (`10.0.0.0/8`, `fd00::/8`), or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr =
            address.parse().map_err(|_| format!("{text:?} is not an IP address or network"))?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => match prefix.parse::<u8>() {
                Ok(prefix) if prefix <= bits => prefix,
                _ => return Err(format!("{text:?}: the prefix length must be 0 to {bits}")),
            },
        };
        Ok(Self { address, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.address, canonical(address)) {
            (IpAddr::V4(network), IpAddr::V4(address)) => same_prefix(
                u128::from(u32::from(network)) << 96,
                u128::from(u32::from(address)) << 96,
                self.prefix,
            ),
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                same_prefix(u128::from(network), u128::from(address), self.prefix)
            }
            _ => false,
        }
    }
}

fn same_prefix(network: u128, address: u128, prefix: u8) -> bool {
    let mask = match prefix {
        0 => 0,
        bits => u128::MAX << (128 - u32::from(bits.min(128))),
    };
    network & mask == address & mask
}

/// An IPv4 address that arrived as IPv4-mapped IPv6 (a dual-stack socket) is the IPv4 address.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose forwarding headers are believed (the `trusted_proxies` setting: addresses or networks,
/// separated by commas or spaces). Empty: none, and the connection's peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split([',', ' '])
            .filter(|part| !part.is_empty())
            .map(Network::parse)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub(crate) fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(address))
    }

    /// The client's address: the connection's peer, or, when that is a trusted proxy, the nearest address
    /// in the forwarding chain (`values` of `header`) that is not itself a trusted proxy. Each proxy appends
    /// the address it saw, so the chain is read from the right; what lies left of the first untrusted hop may
    /// be forged.
    pub fn client(&self, peer: Option<IpAddr>, header: ForwardedHeader, values: &[&str]) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.trusts(peer) {
            return Some(peer);
        }
        let chain = match header {
            ForwardedHeader::XForwardedFor => parse_x_forwarded_for(values),
            ForwardedHeader::Forwarded => parse_forwarded(values),
        };
        let mut client = peer;
        for hop in chain.into_iter().rev() {
            // An unreadable hop (`unknown`, an obfuscated name) ends what can be known: the last proxy seen.
            let Some(hop) = hop else { break };
            client = canonical(hop);
            if !self.trusts(client) {
                break;
            }
        }
        Some(client)
    }
}

/// The header the trusted proxies write (the `forwarded_header` setting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For` (nginx, HAProxy, cloud load balancers).
    #[default]
    XForwardedFor,
    /// `Forwarded`, RFC 7239.
    Forwarded,
}

impl ForwardedHeader {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            _ => Err("must be x-forwarded-for or forwarded".to_owned()),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }
}

fn parse_x_forwarded_for(values: &[&str]) -> Vec<Option<IpAddr>> {
    values.iter().flat_map(|value| value.split(',')).map(|hop| parse_node(hop.trim())).collect()
}

/// RFC 7239 §4: `for=` of each comma-separated element, in order.
fn parse_forwarded(values: &[&str]) -> Vec<Option<IpAddr>> {
    values
        .iter()
        .flat_map(|value| value.split(','))
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, node)| parse_node(node.trim().trim_matches('"')))
        })
        .collect()
}

/// A node as written in the headers: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711`,
/// `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(address) = node.parse() {
        return Some(address);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']').and_then(|(address, _)| address.parse().ok());
    }
    node.rsplit_once(':').and_then(|(address, _)| address.parse::<std::net::Ipv4Addr>().ok()).map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_contain_their_addresses_only() {
        let net = Network::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped");
        let v6 = Network::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.1.0.1")));
        assert!(Network::parse("0.0.0.0/0").unwrap().contains(ip("203.0.113.9")));
        assert!(Network::parse("127.0.0.1").unwrap().contains(ip("127.0.0.1")));
        for bad in ["10.0.0.0/33", "::/129", "example.com", "10.0.0.0/x", ""] {
            assert!(Network::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        use ForwardedHeader::{Forwarded, XForwardedFor};
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.0.2.1").unwrap();
        let peer = Some(ip("10.0.0.5"));
        assert_eq!(proxies.client(peer, XForwardedFor, &["203.0.113.7"]), Some(ip("203.0.113.7")));
        // A client that writes its own header gets the address the first untrusted hop saw, not its claim.
        let chain = ["198.51.100.1, 203.0.113.7, 10.0.0.9"];
        assert_eq!(proxies.client(peer, XForwardedFor, &chain), Some(ip("203.0.113.7")));
        assert_eq!(
            proxies.client(peer, XForwardedFor, &["203.0.113.7", "10.2.3.4"]),
            Some(ip("203.0.113.7"))
        );
        let forwarded = ["for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.9"];
        assert_eq!(proxies.client(peer, Forwarded, &forwarded), Some(ip("2001:db8::7")));
        assert_eq!(proxies.client(peer, XForwardedFor, &[]), peer, "no header: the proxy itself");
        assert_eq!(proxies.client(peer, Forwarded, &["for=unknown"]), peer);
        assert_eq!(proxies.client(peer, XForwardedFor, &["garbage"]), peer);
        // From anyone not trusted, the headers are ignored.
        let stranger = Some(ip("203.0.113.50"));
        assert_eq!(proxies.client(stranger, XForwardedFor, &["127.0.0.1"]), stranger);
        assert_eq!(TrustedProxies::default().client(peer, XForwardedFor, &["203.0.113.7"]), peer);
        assert_eq!(proxies.client(None, XForwardedFor, &["203.0.113.7"]), None);
        assert_eq!(ForwardedHeader::parse("Forwarded"), Ok(Forwarded));
        assert!(ForwardedHeader::parse("x-real-ip").is_err());
    }

    #[test]
    fn nodes_are_read_in_every_written_form() {
        assert_eq!(parse_node("192.0.2.1:80"), Some(ip("192.0.2.1")));
        assert_eq!(parse_node("[2001:db8::1]:80"), Some(ip("2001:db8::1")));
        assert_eq!(parse_node("[2001:db8::1]"), Some(ip("2001:db8::1")));
        assert_eq!(parse_node("2001:db8::1"), Some(ip("2001:db8::1")));
        assert_eq!(parse_node("_hidden"), None);
    }
}
