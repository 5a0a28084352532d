//! The download resumes after a dropped connection with a Range request
//! for the missing bytes only, against a local HTTP server (hyper, on
//! 127.0.0.1) that cuts its first answer short; an HTTP error answer is
//! not retried.

use futures_util::stream;
use http_body_util::StreamBody;
use hyper::body::{Bytes, Frame};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex};

type Frame_ = Result<Frame<Bytes>, std::io::Error>;
type Frames = StreamBody<std::pin::Pin<Box<dyn futures_util::Stream<Item = Frame_> + Send>>>;

/// The frames one after another, 50 ms apart, so what precedes a break is
/// on the wire before the connection drops.
fn paced(frames: Vec<Frame_>) -> Frames {
    StreamBody::new(Box::pin(stream::unfold(
        frames.into_iter(),
        |mut it| async move {
            let next = it.next()?;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            Some((next, it))
        },
    )))
}

/// Serves `file`: a request without Range gets a 200 whose body breaks
/// after `cut` bytes; `Range: bytes=N-` gets a 206 with the rest. With
/// `status` set, every request gets that status. Records each Range header.
async fn server(
    file: Vec<u8>,
    cut: usize,
    status: Option<u16>,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/fw.bin?X-Amz-Signature=abc",
        listener.local_addr().unwrap()
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_in = seen.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (file, seen) = (file.clone(), seen_in.clone());
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let (file, seen) = (file.clone(), seen.clone());
                        async move {
                            let range = req
                                .headers()
                                .get(hyper::header::RANGE)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_string();
                            seen.lock().unwrap().push(range.clone());
                            let mut frames: Vec<Frame_> = Vec::new();
                            let (code, from) = match (status, range.strip_prefix("bytes=")) {
                                (Some(s), _) => (s, file.len()),
                                (None, Some(r)) => {
                                    (206, r.trim_end_matches('-').parse::<usize>().unwrap())
                                }
                                (None, None) => (200, 0),
                            };
                            if code == 200 {
                                frames.push(Ok(Frame::data(Bytes::copy_from_slice(&file[..cut]))));
                                frames.push(Err(std::io::Error::other("connection dropped")));
                            } else if code == 206 {
                                frames.push(Ok(Frame::data(Bytes::copy_from_slice(&file[from..]))));
                            }
                            let length = file.len().saturating_sub(from);
                            Ok::<_, std::convert::Infallible>(
                                Response::builder()
                                    .status(code)
                                    .header(hyper::header::CONTENT_LENGTH, length)
                                    .body(paced(frames))
                                    .unwrap(),
                            )
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    (url, seen)
}

fn firmware() -> Vec<u8> {
    (0..100_000u32).map(|i| (i % 251) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_download_resumes_with_a_range_request_for_the_rest_only() {
    let file = firmware();
    let (url, seen) = server(file.clone(), 40_000, None).await;
    let dir = std::env::temp_dir().join(format!("ota-device-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fw.bin");
    let http = ota_device::download::Http::new().unwrap();
    let mut progress = Vec::new();
    let got = http
        .fetch(&url, &path, file.len() as u64, async |done: u64| {
            progress.push(done)
        })
        .await
        .unwrap();
    assert_eq!(got, vec![40_000], "one Range request, from byte 40000");
    assert_eq!(std::fs::read(&path).unwrap(), file);
    assert_eq!(*seen.lock().unwrap(), ["", "bytes=40000-"]);
    assert_eq!(progress.last(), Some(&(file.len() as u64)));
    assert!(progress.contains(&40_000), "{progress:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_error_answer_is_not_retried() {
    let (url, seen) = server(firmware(), 0, Some(403)).await;
    let path = std::env::temp_dir().join(format!("ota-device-403-{}.bin", std::process::id()));
    let http = ota_device::download::Http::new().unwrap();
    let e = http
        .fetch(&url, &path, 100_000, async |_| {})
        .await
        .unwrap_err();
    assert!(e.contains("HTTP 403") && e.contains("expired"), "{e}");
    assert_eq!(seen.lock().unwrap().len(), 1);
}
