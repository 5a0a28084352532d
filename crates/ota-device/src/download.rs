//! Downloading a presigned URL to a file, as a device streams to flash:
//! chunk by chunk, never the whole file in memory; when the connection
//! drops, the next request asks only for the missing bytes (`Range:
//! bytes=N-`, RFC 9110 section 14.2), and a 206 answer continues the file.

use crate::AgentError;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use std::path::Path;
use tokio::io::AsyncWriteExt;

type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Empty<Bytes>,
>;

/// How many times a dropped download is resumed before it fails.
pub const MAX_RESUMES: u32 = 5;

/// An HTTP(S) client (the system's root certificates for https).
pub struct Http {
    client: Client,
    /// How long a body may send nothing before the download resumes.
    pub stall_timeout: std::time::Duration,
    /// Fault injection for canaries and tests: the first request's
    /// connection is dropped after this many body bytes, as a device losing
    /// its network.
    pub drop_after_bytes: Option<u64>,
}

impl Http {
    pub fn new() -> Result<Http, AgentError> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| AgentError::Setup(format!("no root certificates for HTTPS: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https);
        Ok(Http {
            client,
            stall_timeout: std::time::Duration::from_secs(30),
            drop_after_bytes: None,
        })
    }

    /// GETs `url` into `path` (`size` bytes expected), resuming with Range
    /// after a dropped connection, calling `on_bytes` with the total so
    /// far after every chunk. Ok: the byte offsets the Range requests
    /// started at (empty when nothing dropped).
    pub async fn fetch(
        &self,
        url: &str,
        path: &Path,
        size: u64,
        mut on_bytes: impl AsyncFnMut(u64),
    ) -> Result<Vec<u64>, String> {
        let mut file = tokio::fs::File::create(path)
            .await
            .map_err(|e| format!("creating {}: {e}", path.display()))?;
        let mut done: u64 = 0;
        let mut resumes = 0;
        let mut resumed_at = Vec::new();
        let mut last = String::from("the body ended early");
        loop {
            let drop_after = self.drop_after_bytes.filter(|_| resumes == 0);
            match self
                .get_from(url, done, drop_after, &mut file, &mut on_bytes)
                .await
            {
                Ok(total) if total >= size => break,
                // The body ended early: ask for the rest.
                Ok(total) => done = total,
                Err(i) if i.permanent => return Err(i.reason),
                Err(i) => {
                    done = i.at;
                    last = i.reason;
                }
            }
            if resumes == MAX_RESUMES {
                return Err(format!(
                    "{last} (after {resumes} resumed requests, at byte {done} of {size})"
                ));
            }
            resumes += 1;
            resumed_at.push(done);
            tracing::info!(at_byte = done, "resuming the download with a Range request");
        }
        file.flush().await.map_err(|e| format!("writing: {e}"))?;
        Ok(resumed_at)
    }

    /// One GET from byte `from` on, appended to `file`; the total written.
    /// `drop_after`: drop the connection after that many body bytes.
    async fn get_from(
        &self,
        url: &str,
        from: u64,
        drop_after: Option<u64>,
        file: &mut tokio::fs::File,
        on_bytes: &mut impl AsyncFnMut(u64),
    ) -> Result<u64, Interrupted> {
        let fail = |at, reason: String| Interrupted {
            at,
            reason,
            permanent: false,
        };
        let mut request = hyper::Request::get(url);
        if from > 0 {
            request = request.header(hyper::header::RANGE, format!("bytes={from}-"));
        }
        let request = request.body(Empty::new()).map_err(|e| Interrupted {
            at: from,
            reason: format!("bad URL: {e}"),
            permanent: true,
        })?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| fail(from, format!("GET: {e}")))?;
        let status = response.status().as_u16();
        let expected = if from > 0 { 206 } else { 200 };
        if status != expected {
            // Asking again would get the same answer.
            return Err(Interrupted {
                at: from,
                reason: format!("GET answered HTTP {status} (expected {expected}): the presigned URL may have expired"),
                permanent: true,
            });
        }
        let mut body = response.into_body();
        let mut done = from;
        loop {
            // A server that stops sending counts as a dropped connection.
            let next = tokio::time::timeout(self.stall_timeout, body.frame())
                .await
                .map_err(|_| fail(done, format!("no data for {:?}", self.stall_timeout)))?;
            let Some(frame) = next else { break };
            let frame = frame.map_err(|e| fail(done, format!("connection dropped: {e}")))?;
            if let Ok(chunk) = frame.into_data() {
                file.write_all(&chunk)
                    .await
                    .map_err(|e| fail(done, format!("writing: {e}")))?;
                done += chunk.len() as u64;
                on_bytes(done).await;
                if drop_after.is_some_and(|n| done - from >= n) {
                    // Dropping the body closes the connection mid-transfer.
                    return Err(fail(done, "connection dropped (fault injection)".into()));
                }
            }
        }
        Ok(done)
    }
}

struct Interrupted {
    at: u64,
    reason: String,
    /// An answer, not a dropped connection: resuming cannot help.
    permanent: bool,
}
