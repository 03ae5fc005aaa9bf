//! Files served with HTTP ranges (RFC 9110 §14): a film plays in a `<video>` (which asks for
//! ranges) and a broken download resumes. One range per request; a malformed `Range` is
//! ignored (the whole file, 200), one that starts past the end is 416. The body is streamed
//! from the store (the data dir or the S3 bucket), never read whole.
use crate::error::AppResult;
use crate::storage::Object;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Wanted {
    /// The whole file (no range, or one we ignore).
    All,
    /// Bytes `start..=end`.
    Part(u64, u64),
    /// Nothing of it can be given (416).
    Unsatisfiable,
}

/// Parse `bytes=a-b`, `bytes=a-` or `bytes=-n` against a file of `len` bytes.
pub fn wanted(range: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Wanted::All;
    };
    if spec.contains(',') {
        return Wanted::All;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Wanted::All;
    };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| {
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Wanted::All,
        (true, false) => match num(b) {
            None => Wanted::All,
            Some(0) => Wanted::Unsatisfiable,
            Some(_) if len == 0 => Wanted::Unsatisfiable,
            Some(n) => Wanted::Part(len.saturating_sub(n), len - 1),
        },
        (false, _) => {
            let Some(start) = num(a) else {
                return Wanted::All;
            };
            let end = if b.is_empty() {
                None
            } else {
                match num(b) {
                    Some(e) => Some(e),
                    None => return Wanted::All,
                }
            };
            if end.is_some_and(|e| e < start) {
                return Wanted::All;
            }
            if start >= len {
                return Wanted::Unsatisfiable;
            }
            Wanted::Part(start, end.map_or(len - 1, |e| e.min(len - 1)))
        }
    }
}

/// The file as it is served.
pub struct Served<'a> {
    pub object: Object,
    pub name: &'a str,
    pub content_type: &'a str,
    /// Its SHA-256 (the strong ETag).
    pub sha256: Option<&'a str>,
    /// `attachment` (a download) rather than `inline` (the `<video>`).
    pub attachment: bool,
}

/// A content type from the file's name, for files stored without one.
pub fn content_type_of(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or("");
    match ext {
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "pdf" => "application/pdf",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Answer a GET for the file: 200 with all of it, 206 with the range asked, 416 when the range
/// is outside it; 304 when `If-None-Match` has its ETag. `If-Range` with another ETag gets
/// the whole file.
pub async fn serve(req: &HeaderMap, file: Served<'_>) -> AppResult<Response> {
    let len = file.object.len;
    let etag = file.sha256.map(|s| format!("\"{s}\""));
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if let Some(e) = etag.as_deref().and_then(|e| HeaderValue::from_str(e).ok()) {
        headers.insert(header::ETAG, e);
    }
    let header_str = |h| req.get(h).and_then(|v: &HeaderValue| v.to_str().ok());
    if let (Some(e), Some(inm)) = (etag.as_deref(), header_str(header::IF_NONE_MATCH))
        && inm.split(',').any(|t| t.trim() == e || t.trim() == "*")
    {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let range_applies = match header_str(header::IF_RANGE) {
        None => true,
        Some(v) => etag.as_deref() == Some(v.trim()),
    };
    let range = if range_applies {
        wanted(header_str(header::RANGE), len)
    } else {
        Wanted::All
    };
    let disposition = format!(
        "{}; filename=\"{}\"",
        if file.attachment {
            "attachment"
        } else {
            "inline"
        },
        file.name.replace(['"', '\\', '\r', '\n'], "_")
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(file.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    let (status, start, count) = match range {
        Wanted::All => (StatusCode::OK, 0, len),
        Wanted::Part(start, end) => {
            let v = format!("bytes {start}-{end}/{len}");
            headers.insert(header::CONTENT_RANGE, HeaderValue::from_str(&v).unwrap());
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        Wanted::Unsatisfiable => {
            let v = format!("bytes */{len}");
            headers.insert(header::CONTENT_RANGE, HeaderValue::from_str(&v).unwrap());
            headers.remove(header::CONTENT_DISPOSITION);
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response());
        }
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    let stream = file.object.stream(start..start + count).await?;
    Ok((status, headers, Body::from_stream(stream)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_rfc_9110_reads_them() {
        assert_eq!(wanted(None, 100), Wanted::All);
        assert_eq!(wanted(Some("bytes=0-9"), 100), Wanted::Part(0, 9));
        assert_eq!(wanted(Some("bytes=90-"), 100), Wanted::Part(90, 99));
        assert_eq!(wanted(Some("bytes=90-500"), 100), Wanted::Part(90, 99));
        assert_eq!(wanted(Some("bytes=-10"), 100), Wanted::Part(90, 99));
        assert_eq!(wanted(Some("bytes=-500"), 100), Wanted::Part(0, 99));
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=5-2"), 100), Wanted::All);
        assert_eq!(wanted(Some("bytes=a-2"), 100), Wanted::All);
        assert_eq!(wanted(Some("items=0-2"), 100), Wanted::All);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::All);
        assert_eq!(wanted(Some("bytes=0-0"), 0), Wanted::Unsatisfiable);
    }
}
