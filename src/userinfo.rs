//! User info in URLs (`user:password@`, `token@`): left out of everything
//! shown, logged, stored or sent to another machine, and taken out of a
//! server URL for the login, which the NATS client does not read from it.

/// `scheme://`, the user info, and the host with the rest, when the URL has
/// user info in its authority.
fn split(url: &str) -> Option<(&str, &str, &str)> {
    let i = url.find("://")?;
    let (scheme, rest) = (&url[..i + 3], &url[i + 3..]);
    let end = rest.find('/').unwrap_or(rest.len());
    let at = rest[..end].rfind('@')?;
    Some((scheme, &rest[..at], &rest[at + 1..]))
}

/// A URL without its secrets (`https://bot:token@host/x` → `https://host/x`),
/// for messages and logs. An ssh user name stays (it names the account, the
/// key is the machine's); a scp-like address or a path holds no secret.
pub fn without_userinfo(url: &str) -> String {
    match split(url) {
        Some((scheme @ "ssh://", info, host)) => {
            let user = info.split(':').next().unwrap_or_default();
            format!("{scheme}{user}@{host}")
        }
        Some((scheme, _, host)) => format!("{scheme}{host}"),
        None => url.to_string(),
    }
}

/// Credentials written into a server URL.
#[derive(Debug, PartialEq)]
pub enum UrlAuth {
    /// `nats://user:password@host`
    UserPassword(String, String),
    /// `nats://token@host`
    Token(String),
}

/// The user info of the (first, of a comma-separated list) server URL,
/// percent-decoded.
pub fn url_auth(url: &str) -> Option<UrlAuth> {
    let (_, info, _) = split(url.split(',').next()?.trim())?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    Some(match info.split_once(':') {
        Some((u, p)) => UrlAuth::UserPassword(decode(u), decode(p)),
        None => UrlAuth::Token(decode(info)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_never_travels() {
        assert_eq!(
            without_userinfo("https://bot:s3cret@git.example/x.git"),
            "https://git.example/x.git"
        );
        assert_eq!(
            without_userinfo("nats://a:b@127.0.0.1:4222"),
            "nats://127.0.0.1:4222"
        );
        assert_eq!(
            without_userinfo("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
        assert_eq!(
            without_userinfo("ssh://git:pw@host/r.git"),
            "ssh://git@host/r.git"
        );
        assert_eq!(
            without_userinfo("git://127.0.0.1:9/o.git"),
            "git://127.0.0.1:9/o.git"
        );
        assert_eq!(without_userinfo("/srv/git/o.git"), "/srv/git/o.git");
        assert_eq!(
            without_userinfo("--nats=nats://u:p@h:1"),
            "--nats=nats://h:1"
        );
    }

    #[test]
    fn credentials_come_out_of_the_url() {
        assert_eq!(
            url_auth("nats://rr:p%40ss@127.0.0.1:4222"),
            Some(UrlAuth::UserPassword("rr".into(), "p@ss".into()))
        );
        assert_eq!(
            url_auth("tls://s3cr3t@queue:4222"),
            Some(UrlAuth::Token("s3cr3t".into()))
        );
        assert_eq!(url_auth("nats://127.0.0.1:4222"), None);
        assert_eq!(url_auth("127.0.0.1:4222"), None);
    }
}
