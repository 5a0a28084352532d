//! The `ota` command: validate a request with the pipeline's own rules,
//! upload firmware with its tags and follow the pipeline to the IoT job, see
//! where an upload is, list the updates the pipeline made, print tags.
//!
//! Output: human text by default, `--output json` for scripts (one JSON
//! document on stdout). Errors go to stderr, one readable line each; the
//! exit code says which kind (see [`error::CliError::exit_code`]).

pub mod args;
pub mod aws;
pub mod device;
pub mod error;
pub mod lifecycle;
pub mod list;
pub mod placement;
pub mod request;
pub mod status;
pub mod upload;
pub mod validate;
pub mod watch;

use args::{Cli, Command, Output};
use error::CliError;
use serde_json::{json, Value};
use std::process::ExitCode;

/// Runs one command and prints its result; the process exit code.
pub async fn run(cli: Cli) -> ExitCode {
    let out = cli.global.output;
    let result: Result<(Value, String), CliError> = match &cli.command {
        Command::Validate(a) => validate::validate(&cli.global, a).await.map(|v| {
            // In JSON they are part of the document; for a person, on stderr
            // beside the preview.
            if out == Output::Human {
                for w in v["deviceWarnings"].as_array().into_iter().flatten() {
                    eprintln!("ota: warning: {}", w.as_str().unwrap_or_default());
                }
                if let Some(key) = v["manifest"]["key"].as_str() {
                    eprintln!("ota: more than {} tags: ota upload would write the settings to the manifest {key} (see --output json)", ota_core::tags::MAX_TAGS);
                }
                let p = &v["packageVersion"];
                if let (Some(name), Some(version)) =
                    (p["packageName"].as_str(), p["versionName"].as_str())
                {
                    let default = if p["makeDefault"] == true { ", then made the package's default" } else { "" };
                    eprintln!("ota: registers package version {name}@{version}: a draft with the signature, certificate, stream and S3 version as attributes, published before CreateJob{default} (see --output json)");
                }
            }
            let text = pretty(&v["createJobRequest"]);
            (v, text)
        }),
        Command::Tags(a) => validate::tags(a).map(|v| {
            let mut text = String::new();
            for t in v["tags"].as_array().into_iter().flatten() {
                text.push_str(&format!(
                    "{}={}\n",
                    t["Key"].as_str().unwrap_or_default(),
                    t["Value"].as_str().unwrap_or_default()
                ));
            }
            text.push_str(&format!(
                "\nfor S3 (--tagging / x-amz-tagging):\n{}\n",
                v["tagging"].as_str().unwrap_or_default()
            ));
            if let Some(key) = v["manifest"]["key"].as_str() {
                text.push_str(&format!(
                    "\nmore than {} tags: write this manifest to {key} in the firmware bucket first (ota upload does this itself):\n{}",
                    ota_core::tags::MAX_TAGS,
                    pretty(&v["manifest"]["body"])
                ));
            }
            (v, text)
        }),
        Command::Upload(a) => upload::run(&cli.global, a)
            .await
            .map(|r| (json!(r), r.human())),
        Command::Status(a) => status::run(&cli.global, a)
            .await
            .map(|r| (json!(r), r.human())),
        Command::Device(a) => device::run(&cli.global, a).await.map(|v| {
            let thing = v["thing"].as_str().unwrap_or_default();
            let text = match v["jobs"].as_array().map(Vec::len).unwrap_or(0) {
                0 => format!("no job pending for {thing}\n"),
                n => format!("{n} job(s) done for {thing}\n"),
            };
            (v, text)
        }),
        Command::Cancel(a) => lifecycle::cancel::run(&cli.global, a).await.map(|v| {
            if out == Output::Human {
                for w in v["warnings"].as_array().into_iter().flatten() {
                    eprintln!("ota: warning: {}", w.as_str().unwrap_or_default());
                }
            }
            let text = lifecycle::cancel::human(&v);
            (v, text)
        }),
        Command::Delete(a) => lifecycle::delete::run(&cli.global, a)
            .await
            .map(|d| (json!(d), d.human())),
        Command::Retry(a) => lifecycle::retry::run(&cli.global, a)
            .await
            .map(|r| (json!(r), r.human())),
        Command::Watch(a) => watch::run(&cli.global, a)
            .await
            .map(|w| (json!(w), w.human())),
        Command::List(a) => list::run(&cli.global, a)
            .await
            .map(|u| (json!(u), list::human(&u))),
    };
    match result {
        Ok((value, text)) => {
            match out {
                Output::Json => println!("{}", pretty(&value)),
                Output::Human => print!("{text}"),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            for line in e.lines() {
                eprintln!("ota: {line}");
            }
            if out == Output::Json {
                let problems: Vec<Value> = match &e {
                    CliError::Invalid(p) => p
                        .iter()
                        .map(|q| json!({"field": q.field, "message": q.message}))
                        .collect(),
                    _ => Vec::new(),
                };
                let mut v =
                    json!({"error": e.kind(), "message": e.to_string(), "problems": problems});
                if let CliError::PipelineFailed {
                    error,
                    cause,
                    execution_arn,
                } = &e
                {
                    v["pipelineError"] = json!(error);
                    v["cause"] = json!(cause);
                    v["executionArn"] = json!(execution_arn);
                }
                println!("{}", pretty(&v));
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// What the device families reading the document's format would find (no
/// `ota:devices` set, so not a refusal), one `ota: warning:` line each on
/// stderr.
pub fn print_device_warnings(findings: &[ota_core::devices::Finding]) {
    for f in findings {
        eprintln!("ota: warning: {f}");
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string()) + "\n"
}
