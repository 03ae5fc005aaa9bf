//! Where a page may send someone after an action (`next=` after login, `back=` after a to-do):
//! only a path on this site. The one check for every redirect target.
use url::Url;

const BASE: &str = "http://projectflo.invalid/";

/// `target` when it is a same-origin relative path, else `default`.
///
/// The target is parsed as a browser would (which silently drops tabs and newlines, so
/// `/\t/evil.example` would become `//evil.example`): anything with a control character or a
/// backslash is refused, and what is left must resolve to this site. The result is the parsed
/// path, query and fragment, safe to put in a `Location` header.
pub fn local_path(target: &str, default: &str) -> String {
    parse(target).unwrap_or_else(|| default.to_string())
}

fn parse(target: &str) -> Option<String> {
    if !target.starts_with('/')
        || target.starts_with("//")
        || target.chars().any(|c| c.is_control() || c == '\\')
    {
        return None;
    }
    let base = Url::parse(BASE).expect("a valid base");
    let url = base.join(target).ok()?;
    if url.origin() != base.origin() {
        return None;
    }
    let mut out = url.path().to_string();
    if let Some(q) = url.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = url.fragment() {
        out.push('#');
        out.push_str(f);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn local_paths_are_kept() {
        for p in [
            "/",
            "/leads/3",
            "/quotes?x=1&y=2",
            "/todos#overdue",
            "/a%20b",
        ] {
            assert_eq!(local_path(p, "/d"), p);
        }
    }

    #[test]
    fn anything_that_could_leave_the_site_goes_to_the_default() {
        for p in [
            "",
            "evil.example",
            "https://evil.example/",
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            " /leads",
            "/leads\r\nSet-Cookie: x=1",
            "javascript:alert(1)",
            "/\u{0}",
        ] {
            assert_eq!(local_path(p, "/d"), "/d", "{p:?}");
        }
    }

    #[test]
    fn dot_segments_stay_on_the_site() {
        assert_eq!(local_path("/../../evil", "/d"), "/evil");
        assert_eq!(local_path("/./leads", "/d"), "/leads");
    }
}
