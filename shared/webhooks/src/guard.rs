//! The SSRF guard: a seller-given URL is called only if every address its host resolves to is
//! public (not loopback, private, link-local — the cloud metadata address 169.254.169.254
//! among them — shared, reserved, multicast or documentation ranges), and, in live mode, only
//! over https; test mode also takes plain http (request bins, tunnels), to public addresses all
//! the same. The request then connects to the address that was checked, so a DNS answer that
//! changes between the check and the call (rebinding) cannot reach an internal address.
//!
//! Local development and the tests switch loopback on ([`Reach::AllowLoopback`], from
//! `SELLVY_ALLOW_LOOPBACK=1`), over http or https; private ranges stay refused even then.

use reqwest::Url;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// How long a host's resolution may take.
pub const DNS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Which destinations outbound calls may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reach {
    /// Production: public https hosts only.
    #[default]
    PublicOnly,
    /// Local development and tests: loopback too (over http or https).
    AllowLoopback,
}

impl Reach {
    pub fn from_env() -> Reach {
        match std::env::var("SELLVY_ALLOW_LOOPBACK").as_deref() {
            Ok("1") | Ok("true") => Reach::AllowLoopback,
            _ => Reach::PublicOnly,
        }
    }
}

/// A checked destination: the URL and the address to connect to.
#[derive(Debug, Clone)]
pub struct Destination {
    pub url: Url,
    pub host: String,
    pub addr: SocketAddr,
}

/// Why a URL may not be called. The message is safe to show to the seller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardError(pub String);

impl std::fmt::Display for GuardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn refuse(m: impl Into<String>) -> GuardError {
    GuardError(m.into())
}

/// Checks `raw` and resolves its host; the first acceptable address is the one to connect to.
/// `https_only` (live mode) refuses plain http to anything but the local switch's loopback.
pub async fn check(raw: &str, reach: Reach, https_only: bool) -> Result<Destination, GuardError> {
    let url = Url::parse(raw).map_err(|_| refuse("is not a valid URL"))?;
    let host = url.host_str().ok_or_else(|| refuse("has no host"))?.to_string();
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("must not carry credentials"));
    }
    let port = url.port_or_known_default().ok_or_else(|| refuse("must be an https URL"))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<IpAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::time::timeout(DNS_TIMEOUT, tokio::net::lookup_host((bare, port)))
            .await
            .map_err(|_| refuse(format!("host {host} did not resolve in time")))?
            .map_err(|_| refuse(format!("host {host} does not resolve")))?
            .map(|a| a.ip())
            .collect(),
    };
    if addrs.is_empty() {
        return Err(refuse(format!("host {host} does not resolve")));
    }
    let loopback_ok = reach == Reach::AllowLoopback && addrs.iter().all(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback_ok || !https_only => {}
        "http" => return Err(refuse("must be an https URL (plain http is for test mode only)")),
        _ if https_only => return Err(refuse("must be an https URL")),
        _ => return Err(refuse("must be an http or https URL")),
    }
    if !loopback_ok && let Some(bad) = addrs.iter().find(|ip| !is_public(**ip)) {
        return Err(refuse(format!("resolves to {bad}, which is not a public address")));
    }
    Ok(Destination { addr: SocketAddr::new(addrs[0], port), host: bare.to_string(), url })
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public_v4(v4);
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64 (would reach IPv4 space)
                || (s[0] == 0x2002) // 6to4
                || (s[0..6] == [0, 0, 0, 0, 0, 0])) // IPv4-compatible (deprecated)
        }
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local() // 169.254.0.0/16, the metadata address among them
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // shared address space 100.64.0.0/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18.0.0/15
        || o[0] >= 240) // reserved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.2.1",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
        ] {
            assert!(!is_public(bad.parse().unwrap()), "{bad} should not be public");
        }
        for good in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(good.parse().unwrap()), "{good} should be public");
        }
    }

    #[tokio::test]
    async fn refuses_internal_targets_and_plain_http() {
        let prod = Reach::PublicOnly;
        for (url, why) in [
            ("http://93.184.216.34/x", "https"),
            ("https://127.0.0.1/x", "not a public address"),
            ("https://169.254.169.254/latest/meta-data", "not a public address"),
            ("https://[::1]:8443/", "not a public address"),
            ("https://10.0.0.5/", "not a public address"),
            ("https://user:pw@93.184.216.34/", "credentials"),
            ("ftp://93.184.216.34/", "https"),
            ("https://localhost/", "not a public address"),
        ] {
            let err = check(url, prod, true).await.expect_err(url);
            assert!(err.0.contains(why), "{url}: {err}");
        }
        let ok = check("https://93.184.216.34:8443/hook?a=1", prod, true).await.unwrap();
        assert_eq!(ok.addr, "93.184.216.34:8443".parse().unwrap());
    }

    #[tokio::test]
    async fn test_mode_takes_plain_http_but_only_to_public_addresses() {
        let prod = Reach::PublicOnly;
        assert!(check("http://93.184.216.34/bin", prod, false).await.is_ok(), "a request bin over http");
        for internal in
            ["http://127.0.0.1/x", "http://169.254.169.254/latest", "http://10.0.0.5/", "http://[::1]/"]
        {
            let err = check(internal, prod, false).await.expect_err(internal);
            assert!(err.0.contains("not a public address"), "{internal}: {err}");
        }
        assert!(check("ftp://93.184.216.34/", prod, false).await.is_err());
    }

    #[tokio::test]
    async fn the_local_switch_opens_loopback_only() {
        let dev = Reach::AllowLoopback;
        assert!(check("http://127.0.0.1:9000/x", dev, true).await.is_ok());
        assert!(check("http://localhost:9000/x", dev, true).await.is_ok());
        assert!(check("https://10.0.0.5/", dev, true).await.is_err());
        assert!(check("https://169.254.169.254/", dev, true).await.is_err());
        assert!(
            check("http://93.184.216.34/", dev, true).await.is_err(),
            "live: plain http only to loopback"
        );
    }
}
