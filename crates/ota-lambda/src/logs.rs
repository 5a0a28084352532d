//! The functions' logs: JSON lines (the template sets LogFormat JSON), and
//! the span every step logs in, so each line names the object, its version,
//! the run and the job.

/// JSON logs (the template sets LogFormat JSON), level from `RUST_LOG` or
/// `AWS_LAMBDA_LOG_LEVEL`, INFO by default.
pub fn init_tracing() {
    let level = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL"))
        .unwrap_or_else(|_| "info".into())
        .to_lowercase();
    let _ = tracing::subscriber::set_global_default(json_logs(&level, std::io::stdout));
}

/// The functions' log format, writing to `writer`: one JSON object per line,
/// the event's own fields under `fields` and every enclosing span's fields
/// (bucket, key, version, execution and job ids) under `spans`. Handler tests
/// capture exactly this format.
pub fn json_logs<W>(level: &str, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_writer(writer)
        .finish()
}

/// The span a step after start-signing logs in, so every line names the
/// object, its version, the run and the job, and the signing job and stream
/// once they exist (`stream_id` can be recorded later).
pub fn step_span(step: &'static str, s: &ota_core::PipelineState) -> tracing::Span {
    tracing::info_span!(
        "step",
        step,
        bucket = %s.source.bucket,
        key = %s.source.key,
        version_id = %s.source.version_id,
        execution_id = %s.execution_id,
        job_id = %s.request.job_id,
        signing_job_id = s.signing.job_id.as_deref(),
        stream_id = s.stream.as_ref().map(|x| x.stream_id.as_str())
    )
}
