//! Helpers for handler tests: log lines captured in the functions' own JSON
//! format. (AWS error responses and fast retries: `ota_aws::test_support`.)

/// Log lines captured in the functions' own JSON format (INFO, as
/// deployed): the raw text, and per line its event fields merged with
/// the fields of every span it is in.
pub struct Logs {
    pub raw: String,
    pub lines: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl Logs {
    /// Every line carries `field`, with `value`.
    pub fn assert_every_line_has(&self, field: &str, value: &str) {
        assert!(!self.lines.is_empty(), "nothing was logged");
        for l in &self.lines {
            assert_eq!(
                l.get(field).and_then(|v| v.as_str()),
                Some(value),
                "a log line lacks {field}={value}: {l:?}"
            );
        }
    }

    /// Some line carries `field`, with `value`.
    pub fn assert_some_line_has(&self, field: &str, value: &str) {
        assert!(
            self.lines
                .iter()
                .any(|l| l.get(field).and_then(|v| v.as_str()) == Some(value)),
            "no log line has {field}={value}:\n{}",
            self.raw
        );
    }

    /// Every line names the object, its version, the run and the job,
    /// and the signing job when there is one.
    pub fn assert_every_line_names(&self, s: &ota_core::PipelineState) {
        let src = &s.source;
        self.assert_every_line_has("bucket", &src.bucket);
        self.assert_every_line_has("key", &src.key);
        self.assert_every_line_has("version_id", &src.version_id);
        self.assert_every_line_has("execution_id", &s.execution_id);
        self.assert_every_line_has("job_id", &s.request.job_id);
        if let Some(j) = &s.signing.job_id {
            self.assert_every_line_has("signing_job_id", j);
        }
    }

    /// No signature and no certificate or key material (PEM) in the logs.
    pub fn assert_no_signature_material(&self, signature: &str) {
        self.assert_never_contains(signature);
        self.assert_never_contains("-----BEGIN");
    }

    /// `secret` appears nowhere in the logs.
    pub fn assert_never_contains(&self, secret: &str) {
        assert!(!secret.is_empty());
        assert!(
            !self.raw.contains(secret),
            "the logs contain {secret:?}:\n{}",
            self.raw
        );
    }
}

type Buffer = std::sync::Arc<std::sync::Mutex<Vec<u8>>>;

std::thread_local! {
    /// Where this thread's log lines go while it captures them.
    static CAPTURING: std::cell::RefCell<Option<Buffer>> = const { std::cell::RefCell::new(None) };
}

/// Writes to the current thread's capture buffer, if any.
struct ThisThread;

impl std::io::Write for ThisThread {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURING.with(|c| {
            if let Some(b) = &*c.borrow() {
                if let Ok(mut b) = b.lock() {
                    b.extend_from_slice(buf);
                }
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for ThisThread {
    type Writer = ThisThread;
    fn make_writer(&'w self) -> ThisThread {
        ThisThread
    }
}

/// Runs the future `start` makes (on the current thread, as
/// `#[tokio::test]` does) and captures what it logs; `start` runs once
/// the subscriber is in place, so spans it creates are recorded. One
/// global subscriber, not a scoped one per test: tracing caches each call
/// site's interest process-wide, and scoped subscribers coming and going
/// in parallel tests lose lines.
pub async fn capture_logs<F: std::future::Future>(start: impl FnOnce() -> F) -> (F::Output, Logs) {
    static GLOBAL: std::sync::Once = std::sync::Once::new();
    GLOBAL.call_once(|| {
        let _ = tracing::subscriber::set_global_default(crate::json_logs("info", ThisThread));
    });
    let buffer = Buffer::default();
    CAPTURING.with(|c| *c.borrow_mut() = Some(buffer.clone()));
    let out = start().await;
    CAPTURING.with(|c| *c.borrow_mut() = None);
    let raw = String::from_utf8(buffer.lock().map(|b| b.clone()).unwrap_or_default())
        .expect("logs are UTF-8");
    let lines = raw
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            let mut merged = serde_json::Map::new();
            for span in v["spans"].as_array().into_iter().flatten() {
                merged.extend(span.as_object().cloned().unwrap_or_default());
            }
            merged.extend(v["fields"].as_object().cloned().unwrap_or_default());
            merged
        })
        .collect();
    (out, Logs { raw, lines })
}
