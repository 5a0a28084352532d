//! The `ota` binary against the real stack on the local emulator (started,
//! prepared and deployed by scripts/test.sh): upload -> job with those
//! settings, invalid flags -> nothing uploaded, status and list after a
//! success and after a failed run, multipart uploads, output that is not a
//! terminal. `#[ignore]`d like tests/e2e: scripts/test.sh runs them with
//! `--ignored` once the stack is up; they are never counted without running.
//!
//! The binary finds the state machine, bucket and stack defaults itself (from
//! the state machine's tags), as it would on AWS.

use e2e::{firmware, Local};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn ota(l: &Local, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ota"))
        .args(args)
        .env("AWS_ENDPOINT_URL", &l.endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("OTA_STATE_MACHINE_ARN")
        .env_remove("OTA_BUCKET")
        .env_remove("OTA_DEFAULT_SIGNING_PROFILE")
        .env_remove("OTA_DEFAULT_TARGETS")
        .env_remove("OTA_DEFAULT_PROTOCOLS")
        .env_remove("OTA_DEFAULT_DOCUMENT_FORMAT")
        .env_remove("OTA_DEFAULT_DEVICES")
        .output()
        .expect("run ota")
}

/// The flags of a pre-signed upload whose signature does not verify.
const PRESIGNED: [&str; 6] = [
    "--signature",
    e2e::WRONG_SIGNATURE,
    "--signature-algorithm",
    "SHA256withECDSA",
    "--certfile",
    "/certs/ota.pem",
];

fn json_out(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A firmware file on disk, named after the key's file name.
fn file(key: &str, len: usize, seed: u8) -> PathBuf {
    let dir = e2e::local_dir().join("cli-files");
    std::fs::create_dir_all(&dir).expect("cli-files dir");
    let path = dir.join(key.rsplit('/').next().expect("file name"));
    std::fs::write(&path, firmware(len, seed)).expect("write firmware");
    path
}

/// `ota upload` of a new firmware file to a key no other test uses, with
/// `flags`; the key and what `ota` did.
fn upload(l: &Local, name: &str, len: usize, seed: u8, flags: &[&str]) -> (String, Output) {
    let key = l.unique_key(name);
    let path = file(&key, len, seed);
    let path = path.to_str().expect("utf-8 path");
    let mut args = vec!["upload", path, "--key", &key];
    args.extend_from_slice(flags);
    let out = ota(l, &args);
    (key, out)
}

/// Output meant for a pipe has no terminal control: no carriage returns, no
/// escape sequences, whole lines.
fn assert_plain(text: &[u8]) {
    assert!(
        !text.iter().any(|b| *b == b'\r' || *b == 0x1b),
        "terminal control in redirected output: {:?}",
        String::from_utf8_lossy(text)
    );
    assert!(text.is_empty() || text.ends_with(b"\n"));
}

#[tokio::test]
#[ignore = "needs the local emulator with the stack deployed: scripts/test.sh"]
async fn upload_with_flags_becomes_a_job_with_those_settings() {
    let l = Local::connect().await;
    let (key, o) = upload(
        &l,
        "cli-flags",
        40_000,
        1,
        &[
            "--targets",
            "thinggroup/Lab thing/dev-7",
            "--retry",
            "FAILED:2",
            "--retry",
            "TIMED_OUT:3",
            "--window",
            "MON-FRI@02:00/120",
            "--start",
            "+2h",
            "--timeout",
            "15",
            "--file-path",
            "/ota/app.bin",
            "--tag",
            "team=firmware",
            "--output",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_plain(&o.stdout);
    assert_plain(&o.stderr);
    let r = json_out(&o);
    assert_eq!(r["executionStatus"], "SUCCEEDED");
    assert_eq!(r["key"], key.as_str());
    let job_id = r["jobId"].as_str().expect("jobId").to_string();
    let version = r["versionId"].as_str().expect("versionId").to_string();
    assert_eq!(job_id, ota_core::ids::job_id(&l.bucket, &key, &version));
    assert!(r["consoleUrl"]
        .as_str()
        .is_some_and(|u| u.ends_with(&job_id)));

    // The job IoT holds has the flags' settings.
    let job = l.describe_job(&job_id).await;
    let retry: Vec<(String, i32)> = job
        .job_executions_retry_config()
        .expect("retry config")
        .criteria_list()
        .iter()
        .map(|c| (c.failure_type().as_str().to_string(), c.number_of_retries()))
        .collect();
    assert_eq!(
        retry,
        [("FAILED".to_string(), 2), ("TIMED_OUT".to_string(), 3)]
    );
    assert_eq!(
        job.timeout_config()
            .and_then(|t| t.in_progress_timeout_in_minutes()),
        Some(15)
    );
    let sched = job.scheduling_config().expect("scheduling config");
    assert_eq!(
        sched.maintenance_windows()[0].start_time(),
        "cron(0 2 ? * MON-FRI *)"
    );
    assert!(sched.start_time().is_some());
    let doc = l.job_document(&job_id).await;
    assert_eq!(doc["afr_ota"]["files"][0]["filepath"], "/ota/app.bin");
    assert_eq!(doc["afr_ota"]["files"][0]["filesize"], 40_000);
    // The user's own tag travelled with the object, atomically with it.
    let tags =
        l.s3.get_object_tagging()
            .bucket(&l.bucket)
            .key(&key)
            .version_id(&version)
            .send()
            .await
            .expect("GetObjectTagging");
    assert!(tags
        .tag_set()
        .iter()
        .any(|t| t.key() == "team" && t.value() == "firmware"));
}

#[tokio::test]
#[ignore = "needs the local emulator with the stack deployed: scripts/test.sh"]
async fn invalid_flags_upload_nothing() {
    let l = Local::connect().await;
    let (key, o) = upload(
        &l,
        "cli-invalid",
        1000,
        2,
        &[
            "--targets",
            "thinggroup/Lab",
            "--retry",
            "FAILED:11",
            "--end-behavior",
            "CANCEL",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    let e = err(&o);
    assert!(e.contains("ota: ota:retry: "), "{e}");
    assert!(e.contains("ota: ota:end-behavior: "), "{e}");
    assert!(o.stdout.is_empty());
    let head = l.s3.head_object().bucket(&l.bucket).key(&key).send().await;
    assert!(
        head.is_err(),
        "nothing may be uploaded for an invalid request"
    );
    assert!(l.executions_for(&key, None).await.is_empty());

    // What start-signing would refuse after signing nothing is refused
    // before uploading anything: a profile that does not exist, another
    // bucket than the pipeline's, a key in the signer's output prefix.
    let (key, o) = upload(
        &l,
        "cli-no-profile",
        1000,
        2,
        &["--targets", "thing/dev-1", "--profile", "NoSuchProfile"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("ota: ota:profile: signing profile 'NoSuchProfile' does not exist"),
        "{}",
        err(&o)
    );
    let (other, o) = upload(
        &l,
        "cli-other-bucket",
        1000,
        2,
        &[
            "--targets",
            "thing/dev-1",
            "--bucket",
            "someone-elses-bucket",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("is not the pipeline's bucket"),
        "{}",
        err(&o)
    );
    let path = file("signed/x.bin", 10, 2);
    let o = ota(
        &l,
        &[
            "upload",
            path.to_str().expect("path"),
            "--key",
            "signed/x.bin",
            "--targets",
            "thing/dev-1",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    // An empty file is not firmware: start-signing would refuse it.
    let (empty, o) = upload(&l, "cli-empty", 0, 2, &["--targets", "thing/dev-1"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("is 0 bytes"), "{}", err(&o));
    for k in [key.as_str(), other.as_str(), "signed/x.bin", empty.as_str()] {
        let head = l.s3.head_object().bucket(&l.bucket).key(k).send().await;
        assert!(head.is_err(), "{k} must not be uploaded");
    }
}

#[tokio::test]
#[ignore = "needs the local emulator with the stack deployed: scripts/test.sh"]
async fn status_and_list_after_a_success_and_a_failed_run() {
    let l = Local::connect().await;
    // Human output, not a terminal: readable lines, no progress drawing.
    let (good, ok) = upload(&l, "cli-good", 2000, 3, &["--targets", "thing/dev-1"]);
    assert_eq!(ok.status.code(), Some(0), "{}", err(&ok));
    assert_plain(&ok.stdout);
    assert_plain(&ok.stderr);
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(text.contains("execution  SUCCEEDED"), "{text}");
    assert!(
        text.lines()
            .any(|line| line.starts_with("job        AFR_OTA-")),
        "{text}"
    );

    // Valid as far as anything can tell before the upload; the thing group
    // does not exist, which only CreateJob finds: exit code 3 and the
    // pipeline's reason.
    let (bad, failed) = upload(
        &l,
        "cli-bad",
        2000,
        4,
        &["--targets", "thinggroup/DoesNotExist", "--output", "json"],
    );
    assert_eq!(failed.status.code(), Some(3), "{}", err(&failed));
    let f = json_out(&failed);
    assert_eq!(
        (&f["error"], &f["pipelineError"]),
        (&"PipelineFailed".into(), &"ResourceNotFound".into())
    );
    assert!(
        f["executionArn"]
            .as_str()
            .is_some_and(|a| a.contains(":execution:")),
        "{f}"
    );
    let e = err(&failed);
    assert!(
        e.contains("ResourceNotFound") && e.contains("does not exist"),
        "{e}"
    );
    assert!(
        !e.contains("errorType"),
        "the cause is the message, not Lambda's JSON: {e}"
    );

    let s = json_out(&ota(&l, &["status", &bad, "--output", "json"]));
    assert_eq!(s["executionStatus"], "FAILED");
    assert_eq!(s["error"], "ResourceNotFound");
    assert!(
        s["cause"]
            .as_str()
            .is_some_and(|c| c.contains("does not exist")),
        "{s}"
    );
    assert!(s["streamId"].is_null(), "Clean Up removed the run's stream");
    assert!(s["jobId"].is_null());

    let s = json_out(&ota(&l, &["status", &good, "--output", "json"]));
    assert_eq!(s["executionStatus"], "SUCCEEDED");
    let job_id = s["jobId"].as_str().expect("jobId").to_string();
    assert!(
        s["signingJobId"].is_string() && s["streamId"].is_string(),
        "{s}"
    );
    assert_eq!(s["jobStatus"], "IN_PROGRESS");

    let by_job = json_out(&ota(&l, &["status", &job_id, "--output", "json"]));
    assert_eq!(by_job["key"], good.as_str());
    assert_eq!(by_job["executionArn"], s["executionArn"]);

    let missing = ota(&l, &["status", "AFR_OTA-no-such-job"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(err(&missing).contains("no IoT job AFR_OTA-no-such-job"));

    let list = json_out(&ota(&l, &["list", "--output", "json", "--limit", "1000"]));
    let list = list.as_array().expect("a JSON array");
    let mine: Vec<&Value> = list.iter().filter(|u| u["key"] == good.as_str()).collect();
    assert_eq!(mine.len(), 1, "{list:?}");
    assert_eq!(mine[0]["jobId"], job_id.as_str());
    assert!(
        list.iter().all(|u| u["key"] != bad.as_str()),
        "a failed run made no job"
    );
    let created: Vec<&str> = list
        .iter()
        .filter_map(|u| u["createdAt"].as_str())
        .collect();
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {created:?}"
    );
}

#[tokio::test]
#[ignore = "needs the local emulator with the stack deployed: scripts/test.sh"]
async fn large_firmware_goes_up_in_parts_with_its_tags() {
    let l = Local::connect().await;
    // Over the 8 MiB single-PutObject threshold: two parts of 5 and 4 MiB.
    let len = 9 * 1024 * 1024;
    let (key, o) = upload(
        &l,
        "cli-multipart",
        len,
        5,
        &[
            &["--targets", "thing/dev-7"],
            &PRESIGNED[..],
            &["--output", "json"],
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let r = json_out(&o);
    let doc = l.job_document(r["jobId"].as_str().expect("jobId")).await;
    assert_eq!(doc["afr_ota"]["files"][0]["filesize"], len);
    let stored =
        l.s3.head_object()
            .bucket(&l.bucket)
            .key(&key)
            .send()
            .await
            .expect("HeadObject");
    assert_eq!(stored.content_length(), Some(len as i64));
    // A multipart object's ETag ends in -<parts>.
    assert!(
        stored
            .e_tag()
            .is_some_and(|e| e.trim_matches('"').ends_with("-2")),
        "{:?}",
        stored.e_tag()
    );
    let pending =
        l.s3.list_multipart_uploads()
            .bucket(&l.bucket)
            .prefix(&key)
            .send()
            .await
            .expect("ListMultipartUploads");
    assert!(
        pending.uploads().is_empty(),
        "no unfinished parts left behind"
    );
}

#[tokio::test]
#[ignore = "needs the local emulator with the stack deployed: scripts/test.sh"]
async fn no_wait_returns_after_the_upload() {
    let l = Local::connect().await;
    let (key, o) = upload(
        &l,
        "cli-no-wait",
        500,
        6,
        &["--targets", "thing/dev-1", "--no-wait", "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let r = json_out(&o);
    let version = r["versionId"].as_str().expect("versionId").to_string();
    assert!(r["executionArn"].is_null(), "returned before following");
    // The pipeline still runs for it.
    let job = l.job_for(&key, &version).await;
    assert!(job.starts_with("AFR_OTA-"));
}

#[tokio::test]
#[ignore = "needs the local emulator with the stack deployed: scripts/test.sh"]
async fn a_manifest_in_the_bucket_is_checked_before_the_upload_and_used() {
    let l = Local::connect().await;
    let key = l.unique_key("cli-manifest");
    let manifest_key = format!("manifests/{}.json", key.rsplit('/').next().expect("name"));
    let manifest = serde_json::json!({
        "targets": ["thinggroup/Fleet"],
        "description": "Release 1.4, with notes (commas allowed here)",
        "schedulingConfig": {"maintenanceWindows": [{"startTime": "cron(0 3 ? * SUN *)", "durationInMinutes": 90}]},
        "abortConfig": {"criteriaList": [{"failureType": "REJECTED", "action": "CANCEL", "thresholdPercentage": 12.5, "minNumberOfExecutedThings": 10}]}
    });
    l.s3.put_object()
        .bucket(&l.bucket)
        .key(&manifest_key)
        .body(manifest.to_string().into_bytes().into())
        .send()
        .await
        .expect("PutObject manifest");
    let path = file(&key, 3000, 7);
    let path = path.to_str().expect("path");

    // A manifest that is not there: refused before anything is uploaded.
    let missing = ota(
        &l,
        &[
            "upload",
            path,
            "--key",
            &key,
            "--manifest",
            "manifests/none.json",
        ],
    );
    assert_eq!(missing.status.code(), Some(2), "{}", err(&missing));
    assert!(
        err(&missing).contains("ota: ota:manifest: "),
        "{}",
        err(&missing)
    );
    // A key outside the upload prefix would start nothing: refused too.
    let outside = ota(
        &l,
        &[
            "upload",
            path,
            "--key",
            "elsewhere/app.bin",
            "--targets",
            "thing/dev-1",
        ],
    );
    assert_eq!(outside.status.code(), Some(2), "{}", err(&outside));
    assert!(err(&outside).contains("upload prefix"), "{}", err(&outside));
    for k in [key.as_str(), "elsewhere/app.bin"] {
        let head = l.s3.head_object().bucket(&l.bucket).key(k).send().await;
        assert!(head.is_err(), "{k} must not be uploaded");
    }

    let o = ota(
        &l,
        &[
            "upload",
            path,
            "--key",
            &key,
            "--manifest",
            &manifest_key,
            "--output",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let job_id = json_out(&o)["jobId"].as_str().expect("jobId").to_string();
    let job = l.describe_job(&job_id).await;
    assert_eq!(
        job.description(),
        Some("Release 1.4, with notes (commas allowed here)")
    );
    assert!(job.targets()[0].ends_with(":thinggroup/Fleet"));
    let w = &job
        .scheduling_config()
        .expect("scheduling")
        .maintenance_windows()[0];
    assert_eq!(
        (w.start_time(), w.duration_in_minutes()),
        ("cron(0 3 ? * SUN *)", 90)
    );
    let a = &job.abort_config().expect("abort config").criteria_list()[0];
    assert_eq!(
        (a.threshold_percentage(), a.min_number_of_executed_things()),
        (12.5, 10)
    );
}

#[tokio::test]
#[ignore = "needs the local emulator with the stack deployed: scripts/test.sh"]
async fn flags_for_more_than_ten_tags_go_into_a_manifest_the_pipeline_reads() {
    let l = Local::connect().await;
    let (key, o) = upload(
        &l,
        "cli-eleven",
        6_000,
        9,
        &[
            "--targets",
            "thinggroup/Lab",
            "--selection",
            "SNAPSHOT",
            "--description",
            "Release 1.4",
            "--protocols",
            "MQTT",
            "--file-path",
            "/ota/eleven.bin",
            "--file-type",
            "2",
            "--timeout",
            "25",
            "--retry",
            "FAILED:1",
            "--start",
            "+3h",
            "--window",
            "SAT@01:00/60",
            "--tag",
            "team=firmware",
            "--output",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        err(&o).contains("their settings are in the manifest s3://"),
        "{}",
        err(&o)
    );
    let r = json_out(&o);
    assert_eq!(r["executionStatus"], "SUCCEEDED", "{r}");
    let job_id = r["jobId"].as_str().expect("jobId");
    // The object carries two tags: ota:manifest and the user's own.
    let tagging =
        l.s3.get_object_tagging()
            .bucket(&l.bucket)
            .key(&key)
            .send()
            .await
            .expect("GetObjectTagging");
    let keys: Vec<&str> = tagging.tag_set().iter().map(|t| t.key()).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys.contains(&"ota:manifest") && keys.contains(&"team"),
        "{keys:?}"
    );
    // And the job has every setting the flags gave.
    let job = l.describe_job(job_id).await;
    assert_eq!(
        job.timeout_config()
            .and_then(|t| t.in_progress_timeout_in_minutes()),
        Some(25)
    );
    let windows = job
        .scheduling_config()
        .map(|s| s.maintenance_windows().to_vec())
        .unwrap_or_default();
    assert_eq!(windows[0].start_time(), "cron(0 1 ? * SAT *)");
    let doc = l.job_document(job_id).await;
    assert_eq!(doc["afr_ota"]["files"][0]["filepath"], "/ota/eleven.bin");
    assert_eq!(doc["afr_ota"]["files"][0]["fileType"], 2);
}

#[tokio::test]
#[ignore = "needs the local emulator with the stack deployed: scripts/test.sh"]
async fn ota_device_takes_the_job_an_upload_made_and_reports_it() {
    let l = Local::connect().await;
    let thing = l.new_thing("cli-device").await;
    let target = format!("thing/{thing}");
    let (_, o) = upload(
        &l,
        "cli-device",
        8_000,
        31,
        &[
            "--targets",
            &target,
            "--format",
            "aws_fota",
            "--output",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // Nordic's default buffers against a presigned URL: printed, not refused.
    assert!(
        err(&o).contains("ota: warning: nrf-aws-fota (url-path-length"),
        "{}",
        err(&o)
    );
    let job_id = json_out(&o)["jobId"].as_str().expect("jobId").to_string();
    let out = e2e::local_dir().join("cli-device").join(&thing);
    let out = out.to_str().expect("utf-8 path");
    let args = [
        "device",
        "--thing",
        &thing,
        "--family",
        "nrf-aws-fota",
        "--out",
        out,
        "--once",
        "--nrf-file-path-max-len",
        "2048",
        "--nrf-payload-size",
        "4096",
        "--output",
        "json",
    ];
    let o = ota(&l, &args);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let r = json_out(&o);
    assert_eq!(r["jobs"][0]["jobId"], job_id.as_str());
    assert_eq!(r["jobs"][0]["status"], "SUCCEEDED");
    assert_eq!(l.execution_status(&job_id, &thing).await, "SUCCEEDED");
    // Nothing left, over either transport: with --wait-for-job it gives up
    // with exit code 4.
    for transport in ["mqtt", "https"] {
        let mut again = args.to_vec();
        again.extend([
            "--wait-for-job",
            "1",
            "--poll",
            "1",
            "--transport",
            transport,
        ]);
        let o = ota(&l, &again);
        assert_eq!(o.status.code(), Some(4), "{transport}: {}", err(&o));
    }
}

#[tokio::test]
#[ignore = "needs the local emulator with the stack deployed: scripts/test.sh"]
async fn ota_device_on_mutual_tls_streams_a_freertos_job_and_a_wrong_signature_exits_3() {
    let l = Local::connect().await;
    let thing = l.new_thing("cli-mtls").await;
    let cert = l.thing_certificate(&thing).await;
    let dir = e2e::local_dir().join("cli-mtls").join(&thing);
    std::fs::create_dir_all(&dir).expect("dir");
    let (status, ca) = l
        .download(&format!("{}/_ministack/iot/ca.pem", l.endpoint))
        .await;
    assert_eq!(status, 200);
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        p.to_str().expect("utf-8 path").to_string()
    };
    let (cert_file, key_file, ca_file) = (
        write("thing.crt", &cert.cert_pem),
        write("thing.key", &cert.key_pem),
        write("iot-ca.pem", &ca),
    );
    let signer = write("signer.crt", &l.signer_cert_pem());
    let mtls = std::fs::read_to_string(e2e::local_dir().join("mqtt-tls-endpoint"))
        .expect("the mTLS listener's address");
    let target = format!("thing/{thing}");
    let device = |out: &str| {
        ota(
            &l,
            &[
                "device",
                "--thing",
                &thing,
                "--family",
                "freertos-ota-agent",
                "--cert",
                &cert_file,
                "--key",
                &key_file,
                "--ca",
                &ca_file,
                "--iot-endpoint",
                mtls.trim(),
                "--signer-cert",
                &signer,
                "--out",
                out,
                "--once",
                "--wait-for-job",
                "5",
                "--poll",
                "1",
                "--request-timeout",
                "2",
                "--output",
                "json",
            ],
        )
    };
    let (_, o) = upload(
        &l,
        "cli-mtls",
        20_000,
        41,
        &["--targets", &target, "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let job_id = json_out(&o)["jobId"].as_str().expect("jobId").to_string();
    let flash = dir.join("flash");
    let o = device(flash.to_str().expect("utf-8"));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let r = json_out(&o);
    assert_eq!(r["jobs"][0]["jobId"], job_id.as_str());
    assert_eq!(r["jobs"][0]["status"], "SUCCEEDED");
    assert_eq!(r["jobs"][0]["checked"], "signature");
    assert_eq!(
        r["jobs"][0]["streamed"]["blocks"], 5,
        "20 000 bytes in 4 KiB blocks"
    );
    assert_eq!(l.execution_status(&job_id, &thing).await, "SUCCEEDED");

    let (_, o) = upload(
        &l,
        "cli-mtls-bad",
        20_000,
        42,
        &[
            &["--targets", &target],
            &PRESIGNED[..],
            &["--output", "json"],
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let bad_job = json_out(&o)["jobId"].as_str().expect("jobId").to_string();
    let o = device(flash.to_str().expect("utf-8"));
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(err(&o).contains("signature mismatch"), "{}", err(&o));
    assert_eq!(l.execution_status(&bad_job, &thing).await, "FAILED");
}

/// A thing group of its own (no other test's device takes its jobs): its
/// name and ARN.
async fn new_group(l: &Local, prefix: &str) -> (String, String) {
    let group = format!("{prefix}-{}", std::process::id());
    let arn = l
        .iot
        .create_thing_group()
        .thing_group_name(&group)
        .send()
        .await
        .expect("CreateThingGroup")
        .thing_group_arn()
        .expect("group arn")
        .to_string();
    (group, arn)
}

/// `ota upload --output json` of a new file to a thing group; the key and
/// the JSON it printed (exit code 0 asserted).
fn upload_to(l: &Local, name: &str, len: usize, seed: u8, group: &str) -> (String, Value) {
    let targets = format!("thinggroup/{group}");
    let (key, o) = upload(
        l,
        name,
        len,
        seed,
        &["--targets", &targets, "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    (key, json_out(&o))
}

#[tokio::test]
#[ignore = "needs the local emulator with the stack deployed: scripts/test.sh"]
async fn cancel_then_delete_removes_the_job_its_stream_and_signed_object_but_not_the_firmware() {
    let l = Local::connect().await;
    let (group, _) = new_group(&l, "lifecycle").await;
    let (key, r) = upload_to(&l, "cli-lifecycle", 30_000, 9, &group);
    let job_id = r["jobId"].as_str().expect("jobId").to_string();
    let version = r["versionId"].as_str().expect("versionId").to_string();
    // The job names what the run made, for ota delete to look up.
    let tags = l.job_tags(&job_id).await;
    let tag = |k: &str| {
        tags.get(k)
            .cloned()
            .unwrap_or_else(|| panic!("{k} tag: {tags:?}"))
    };
    let stream_id = tag("ota:stream");
    assert_eq!(stream_id, l.default_stream_id(&key, &version));
    let signing_job = tag("ota:signing-job");
    let signed_version = tag("ota:signed-version");
    let signed = l
        .signer
        .describe_signing_job()
        .job_id(&signing_job)
        .send()
        .await
        .expect("DescribeSigningJob");
    let signed_key = signed
        .signed_object()
        .and_then(|o| o.s3())
        .and_then(|s| s.key())
        .expect("signed object key")
        .to_string();
    let versions_of = |k: String| {
        let s3 = l.s3.clone();
        let bucket = l.bucket.clone();
        async move {
            let v = s3
                .list_object_versions()
                .bucket(&bucket)
                .prefix(&k)
                .send()
                .await
                .expect("ListObjectVersions");
            let ids: Vec<String> = v
                .versions()
                .iter()
                .filter(|o| o.key() == Some(k.as_str()))
                .filter_map(|o| o.version_id().map(str::to_string))
                .collect();
            (ids, v.delete_markers().len())
        }
    };
    assert!(versions_of(signed_key.clone())
        .await
        .0
        .contains(&signed_version));

    // Wrong input and a running job: refused, nothing changes.
    let o = ota(&l, &["cancel", &key, "--reason-code", "bad release"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("--reason-code"), "{}", err(&o));
    let o = ota(&l, &["delete", &key]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("ota cancel"), "{}", err(&o));
    assert_eq!(
        l.describe_job(&job_id).await.status().map(|s| s.as_str()),
        Some("IN_PROGRESS")
    );

    let o = ota(
        &l,
        &[
            "cancel",
            &key,
            "--comment",
            "boot loop on rev B",
            "--reason-code",
            "BAD_RELEASE",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let job = l.describe_job(&job_id).await;
    assert_eq!(job.status().map(|s| s.as_str()), Some("CANCELED"));
    assert_eq!(job.reason_code(), Some("BAD_RELEASE"));
    assert_eq!(job.comment(), Some("boot loop on rev B"));

    let o = ota(&l, &["delete", &job_id, "--output", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let d = json_out(&o);
    assert_eq!(d["stream"], stream_id.as_str());
    assert_eq!(
        d["signedObject"],
        format!("s3://{}/{signed_key} version {signed_version}", l.bucket).as_str()
    );
    let gone = l.iot.describe_job().job_id(&job_id).send().await;
    assert!(
        gone.as_ref().is_err_and(|e| e
            .as_service_error()
            .is_some_and(|s| s.is_resource_not_found_exception())),
        "{gone:?}"
    );
    let stream = l.iot.describe_stream().stream_id(&stream_id).send().await;
    assert!(
        stream.as_ref().is_err_and(|e| e
            .as_service_error()
            .is_some_and(|s| s.is_resource_not_found_exception())),
        "{stream:?}"
    );
    // The version itself is gone, and no delete marker stands in for it.
    let (left, markers) = versions_of(signed_key).await;
    assert!(!left.contains(&signed_version), "{left:?}");
    assert_eq!(markers, 0);
    // The firmware stays.
    l.s3.head_object()
        .bucket(&l.bucket)
        .key(&key)
        .version_id(&version)
        .send()
        .await
        .expect("the firmware version is still there");
    // ota status still finds the run, and says its job was deleted.
    let o = ota(&l, &["status", &key, "--output", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let st = json_out(&o);
    assert_eq!(st["jobStatus"], "DELETED", "{st}");
    assert!(
        st["nextStep"]
            .as_str()
            .is_some_and(|n| n.contains("ota retry")),
        "{st}"
    );
    // A second delete finds nothing to delete.
    let o = ota(&l, &["delete", &job_id]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("no IoT job"), "{}", err(&o));
}

#[tokio::test]
#[ignore = "needs the local emulator with the stack deployed: scripts/test.sh"]
async fn delete_keeps_the_stream_and_signed_object_another_job_still_uses() {
    let l = Local::connect().await;
    let (group, group_arn) = new_group(&l, "lifecycle-keep").await;
    let (key, r) = upload_to(&l, "cli-keep", 20_000, 10, &group);
    let job_id = r["jobId"].as_str().expect("jobId").to_string();
    let tags = l.job_tags(&job_id).await;
    let (stream_id, signing_job) = (tags["ota:stream"].clone(), tags["ota:signing-job"].clone());
    // A second job that serves the same stream and signature.
    let keeper = format!("{job_id}-keeper");
    let keeper_arn = l
        .hand_made_job(
            &keeper,
            &group_arn,
            &l.job_document(&job_id).await,
            &[
                ("ota:stream", &stream_id),
                ("ota:signing-job", &signing_job),
            ],
        )
        .await;

    let o = ota(&l, &["delete", &key, "--force", "--output", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let d = json_out(&o);
    assert!(d["stream"].is_null() && d["signedObject"].is_null(), "{d}");
    let kept: Vec<&str> = d["kept"]
        .as_array()
        .expect("kept")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(kept.iter().all(|k| k.contains(&keeper_arn)), "{kept:?}");
    l.iot
        .describe_stream()
        .stream_id(&stream_id)
        .send()
        .await
        .expect("the stream the keeper uses is still there");
    l.delete_job_now(&keeper).await;
}

#[tokio::test]
#[ignore = "needs the local emulator with the stack deployed: scripts/test.sh"]
async fn retry_after_fixing_the_cause_makes_the_job_and_after_delete_a_new_one() {
    let l = Local::connect().await;
    // The group does not exist yet: CreateJob fails, Clean Up runs.
    let group = format!("retry-{}", std::process::id());
    let targets = format!("thinggroup/{group}");
    let (key, o) = upload(
        &l,
        "cli-retry",
        12_000,
        11,
        &["--targets", &targets, "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert_eq!(json_out(&o)["pipelineError"], "ResourceNotFound");
    let version =
        l.s3.head_object()
            .bucket(&l.bucket)
            .key(&key)
            .send()
            .await
            .expect("HeadObject")
            .version_id()
            .expect("version")
            .to_string();
    let first_job = ota_core::ids::job_id(&l.bucket, &key, &version);

    // The fix: the group exists now.
    l.iot
        .create_thing_group()
        .thing_group_name(&group)
        .send()
        .await
        .expect("CreateThingGroup");
    let o = ota(&l, &["retry", &key, "--output", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let r = json_out(&o);
    let job_id = format!("{first_job}-r1");
    assert_eq!(r["jobId"], job_id.as_str(), "{r}");
    assert_eq!(r["versionId"], version.as_str());
    let doc = l.job_document(&job_id).await;
    let stream = doc["afr_ota"]["streamname"].as_str().expect("stream name");
    l.iot
        .describe_stream()
        .stream_id(stream)
        .send()
        .await
        .expect("the retry's stream");
    // The first run's signature was made for the run that failed; this
    // one signed again (a second signing job for the version).
    assert_eq!(l.signing_jobs_for(&key).await, 2);

    // The job exists: refused.
    let o = ota(&l, &["retry", &key]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("ota delete"), "{}", err(&o));

    // After ota delete: a job with a new id, never the deleted one's.
    let o = ota(&l, &["delete", &job_id, "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = ota(
        &l,
        &["retry", &key, "--version-id", &version, "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(json_out(&o)["jobId"], format!("{first_job}-r2").as_str());
    // ota status finds the newest run's job by the key.
    let o = ota(&l, &["status", &key, "--output", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(json_out(&o)["jobId"], format!("{first_job}-r2").as_str());
}

/// The screen of tmux session `session`, as a person would see it.
fn screen(session: &str) -> String {
    let o = Command::new("tmux")
        .args(["capture-pane", "-p", "-t", session])
        .output()
        .expect("tmux capture-pane (tmux is installed by scripts/setup-tools.sh)");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Waits up to 30 s for the screen to satisfy `ok`; the last screen.
fn screen_until(session: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let s = screen(session);
        if ok(&s) {
            return s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the screen never showed what was expected:\n{s}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The bar line of `state` on the screen, e.g. "   succeeded [###---]  2/3".
fn bar<'a>(s: &'a str, state: &str) -> &'a str {
    s.lines()
        .find(|l| l.trim_start().starts_with(&format!("{state} [")))
        .unwrap_or_else(|| panic!("no {state} bar on the screen:\n{s}"))
}

#[tokio::test]
#[ignore = "needs the local emulator with the stack deployed: scripts/test.sh"]
async fn ota_watch_draws_a_bar_per_state_on_a_terminal_and_status_names_why_devices_failed() {
    let l = Local::connect().await;
    let (group, things) = l.new_fleet("watch", 3).await;
    let (_, r) = upload_to(&l, "cli-watch", 6_000, 41, &group);
    let job_id = r["jobId"].as_str().expect("jobId").to_string();

    // ota watch on a real terminal: a tmux pane of 90 x 16.
    let session = format!("ota-watch-{}", std::process::id());
    let cmd = format!(
        "env AWS_ENDPOINT_URL={} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test {} watch {job_id} --interval 0.3; echo WATCH-EXIT=$?; sleep 120",
        l.endpoint,
        env!("CARGO_BIN_EXE_ota")
    );
    let started = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            "90",
            "-y",
            "16",
            &cmd,
        ])
        .status()
        .expect("tmux (installed by scripts/setup-tools.sh)");
    assert!(started.success());
    let s = screen_until(&session, |s| s.contains("queued [") && s.contains("3/3"));
    assert!(s.contains(&job_id) && s.contains("IN_PROGRESS"), "{s}");
    assert!(bar(&s, "queued").ends_with("3/3"), "{s}");
    assert!(bar(&s, "succeeded").ends_with("0/3"), "{s}");

    // Two devices succeed, one fails with a reason, as the Jobs API takes it.
    for (i, thing) in things.iter().enumerate() {
        assert_eq!(l.start_next_as_device(thing).await.job_id, job_id);
        let failed = i == 2;
        l.jobs
            .update_job_execution()
            .job_id(&job_id)
            .thing_name(thing)
            .status(if failed {
                aws_sdk_iotjobsdataplane::types::JobExecutionStatus::Failed
            } else {
                aws_sdk_iotjobsdataplane::types::JobExecutionStatus::Succeeded
            })
            .set_status_details(
                failed
                    .then(|| [("reason".to_string(), "signature check failed".to_string())].into()),
            )
            .send()
            .await
            .expect("UpdateJobExecution");
    }
    let s = screen_until(&session, |s| s.contains("WATCH-EXIT="));
    assert!(s.contains("COMPLETED"), "{s}");
    assert!(s.contains("WATCH-EXIT=0"), "{s}");
    // The last counts stay on the screen, each bar its own.
    assert!(bar(&s, "succeeded").ends_with("2/3"), "{s}");
    assert!(bar(&s, "failed").ends_with("1/3"), "{s}");
    assert!(bar(&s, "queued").ends_with("0/3"), "{s}");
    assert!(s.contains("succeeded 2, failed 1"), "{s}");
    let _ = Command::new("tmux")
        .args(["kill-session", "-t", &session])
        .status();

    // Not a terminal: plain lines, ending with the same summary.
    let o = ota(&l, &["watch", &job_id]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_plain(&o.stderr);
    assert!(
        err(&o).contains("COMPLETED  succeeded 2, failed 1"),
        "{}",
        err(&o)
    );

    // Which device failed, and the reason it gave.
    let o = ota(&l, &["status", &job_id, "--devices", "--output", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let devices = json_out(&o)["devices"].clone();
    assert_eq!(devices.as_array().map(Vec::len), Some(3), "{devices}");
    let failed: Vec<&Value> = devices
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["status"] == "FAILED")
        .collect();
    assert_eq!(failed.len(), 1, "{devices}");
    assert_eq!(failed[0]["thing"], things[2].as_str());
    assert_eq!(
        failed[0]["statusDetails"]["reason"],
        "signature check failed"
    );
    let o = ota(&l, &["status", &job_id, "--devices"]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        text.lines().any(|l| l.contains(&things[2])
            && l.contains("FAILED")
            && l.ends_with("reason=signature check failed")),
        "{text}"
    );
}
