//! Real uploads through the real stack on the local emulator: S3 ->
//! EventBridge -> Step Functions -> the four bootstraps -> Signer, IoT.
//!
//! Each test is `#[ignore]`d: the workspace-wide `cargo test` selects every
//! package (one feature set, so the AWS SDK is compiled once) and must not run
//! these without a stack. scripts/test.sh deploys the stack and then runs them
//! with `--ignored`; they are never counted as passed without running.

use aws_sdk_sfn::types::ExecutionStatus;
use e2e::{firmware, Local, Update};
use ota_core::ids;
use serde_json::{json, Value};
use std::time::Duration;

const CERTFILE: &str = "ota-signer.crt";

fn stream_files(info: &aws_sdk_iot::types::StreamInfo) -> Vec<(String, String, String)> {
    info.files()
        .iter()
        .map(|f| {
            let l = f.s3_location().expect("s3 location");
            (
                l.bucket().unwrap_or_default().to_string(),
                l.key().unwrap_or_default().to_string(),
                l.version().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn stream_exists(l: &Local, stream_id: &str) -> bool {
    l.iot
        .describe_stream()
        .stream_id(stream_id)
        .send()
        .await
        .is_ok()
}

async fn job_exists(l: &Local, job_id: &str) -> bool {
    l.iot.describe_job().job_id(job_id).send().await.is_ok()
}

/// Nothing exists for the version: no signing job, no stream, no job.
async fn assert_nothing_created(l: &Local, key: &str, version: &str) {
    assert_eq!(l.signing_jobs_for(key).await, 0, "{key}: nothing signed");
    assert!(
        !stream_exists(l, &l.default_stream_id(key, version)).await,
        "{key}: no stream"
    );
    assert!(
        !job_exists(l, &ids::job_id(&l.bucket, key, version)).await,
        "{key}: no job"
    );
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn mqtt_upload_becomes_one_signed_job_streaming_the_exact_version() {
    let l = Local::connect().await;
    let fw = firmware(200_000, 1);
    let Update {
        key,
        version,
        job_id,
        document: doc,
    } = l
        .update(
            "mqtt",
            &fw,
            &[("ota:targets", "thinggroup/Lab thing/dev-7")],
        )
        .await;
    assert_eq!(job_id, ids::job_id(&l.bucket, &key, &version));

    let stream_id = l.default_stream_id(&key, &version);
    let sig = doc["afr_ota"]["files"][0]["sig-sha256-ecdsa"]
        .as_str()
        .expect("signature")
        .to_string();
    let expected = json!({"afr_ota": {"protocols": ["MQTT"], "streamname": stream_id, "files": [{
        "filepath": key.rsplit('/').next().unwrap(), "filesize": fw.len(), "fileid": 0,
        "fileType": 0, "certfile": CERTFILE, "sig-sha256-ecdsa": sig
    }]}});
    assert_eq!(doc, expected);
    assert!(
        l.verify(&fw, &sig),
        "the signature verifies over the firmware with the certificate's key"
    );

    let stream = l
        .iot
        .describe_stream()
        .stream_id(&stream_id)
        .send()
        .await
        .expect("DescribeStream");
    let info = stream.stream_info().expect("stream info");
    assert_eq!(
        stream_files(info),
        [(l.bucket.clone(), key.clone(), version.clone())]
    );
    assert_eq!(l.signing_jobs_for(&key).await, 1);
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_non_ascii_key_becomes_its_job() {
    // S3 keys are UTF-8; the signer's JSON may carry them \u-escaped (the
    // emulator's does), which the signed-object reader must decode.
    let l = Local::connect().await;
    let fw = firmware(3_000, 9);
    let Update {
        key,
        version,
        job_id,
        document: doc,
    } = l
        .update("über app v1+rc", &fw, &[("ota:targets", "thinggroup/Lab")])
        .await;
    assert!(key.contains("über app v1+rc"), "{key}");
    assert_eq!(job_id, ids::job_id(&l.bucket, &key, &version));
    let sig = doc["afr_ota"]["files"][0]["sig-sha256-ecdsa"]
        .as_str()
        .expect("signature");
    assert!(l.verify(&fw, sig));
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn http_and_mqtt_http_carry_a_presigned_placeholder_pinned_to_the_version() {
    let l = Local::connect().await;
    for (name, protocols) in [("http", "HTTP"), ("both", "MQTT HTTP")] {
        let Update {
            version,
            job_id,
            document: doc,
            ..
        } = l
            .update(
                name,
                &firmware(5_000, 2),
                &[
                    ("ota:targets", "thinggroup/Lab"),
                    ("ota:protocols", protocols),
                    ("ota:presigned-expiry", "900"),
                ],
            )
            .await;
        let f = &doc["afr_ota"]["files"][0];
        assert_eq!(f["auth_scheme"], "aws.s3.presigned", "{protocols}");
        let url = f["update_data_url"].as_str().expect("update_data_url");
        assert!(
            url.starts_with("${aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/"),
            "{url}"
        );
        // AWS's documented versioned form: `?` and `=` encoded inside.
        assert!(
            url.ends_with(&format!("%3FversionId%3D{version}}}")),
            "{url}"
        );
        let job = l.describe_job(&job_id).await;
        let p = job.presigned_url_config().expect("presignedUrlConfig");
        assert_eq!(p.expires_in_sec(), Some(900));
        assert!(
            p.role_arn().is_some_and(|r| r.contains("OtaRole")),
            "{:?}",
            p.role_arn()
        );
        let want: Vec<&str> = protocols.split(' ').collect();
        assert_eq!(doc["afr_ota"]["protocols"], json!(want));
        assert_eq!(
            doc["afr_ota"].get("streamname").is_some(),
            protocols.contains("MQTT")
        );
    }
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn scheduling_windows_retries_timeout_rollout_and_abort_reach_the_job_as_tagged() {
    let l = Local::connect().await;
    let update = l
        .update(
            "schedule",
            &firmware(1_000, 3),
            &[
                ("ota:targets", "thinggroup/Fleet"),
                ("ota:start", "2027-01-05T02:00"),
                ("ota:end", "2027-01-12T02:00"),
                ("ota:end-behavior", "CANCEL"),
                ("ota:windows", "MON-FRI@02:00/120 SAT@01:00/60"),
                ("ota:retry", "FAILED:2 TIMED_OUT:3"),
                ("ota:timeout", "30"),
                ("ota:rollout", "max:100 base:10 factor:2.5 notified:50"),
                ("ota:abort", "FAILED:12.5:10"),
                ("ota:packages", "OtaFirmware@1.4.0"),
            ],
        )
        .await;
    let job = &l.describe_job(&update.job_id).await;
    let s = job.scheduling_config().expect("schedulingConfig");
    assert_eq!(s.start_time(), Some("2027-01-05T02:00"));
    assert_eq!(s.end_time(), Some("2027-01-12T02:00"));
    assert_eq!(s.end_behavior().map(|b| b.as_str()), Some("CANCEL"));
    let windows: Vec<(&str, i32)> = s
        .maintenance_windows()
        .iter()
        .map(|w| (w.start_time(), w.duration_in_minutes()))
        .collect();
    assert_eq!(
        windows,
        [
            ("cron(0 2 ? * MON-FRI *)", 120),
            ("cron(0 1 ? * SAT *)", 60)
        ]
    );
    let retry: Vec<(&str, i32)> = job
        .job_executions_retry_config()
        .expect("retry config")
        .criteria_list()
        .iter()
        .map(|c| (c.failure_type().as_str(), c.number_of_retries()))
        .collect();
    assert_eq!(retry, [("FAILED", 2), ("TIMED_OUT", 3)]);
    assert_eq!(
        job.timeout_config()
            .and_then(|t| t.in_progress_timeout_in_minutes()),
        Some(30)
    );
    let r = job.job_executions_rollout_config().expect("rollout");
    assert_eq!(r.maximum_per_minute(), Some(100));
    let e = r.exponential_rate().expect("exponential rate");
    assert_eq!((e.base_rate_per_minute(), e.increment_factor()), (10, 2.5));
    assert_eq!(
        e.rate_increase_criteria()
            .and_then(|c| c.number_of_notified_things()),
        Some(50)
    );
    let a = &job.abort_config().expect("abort").criteria_list()[0];
    assert_eq!(
        (
            a.failure_type().as_str(),
            a.threshold_percentage(),
            a.min_number_of_executed_things()
        ),
        ("FAILED", 12.5, 10)
    );
    assert_eq!(
        job.destination_package_versions(),
        ["arn:aws:iot:us-east-1:000000000000:package/OtaFirmware/version/1.4.0"]
    );
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn pre_signed_firmware_skips_the_signer_and_carries_the_given_signature() {
    let l = Local::connect().await;
    let signature = "MEUCIQDkRJ1lbcw7xq2yPqDmo3jUxm8bTI9zNr8yFQjH3lG9OgIgKH2Jx0uY5nG1y8Zq3kz4JmPq7s8B0o1bC2dE3fG4hI0=";
    let Update {
        key, document: doc, ..
    } = l
        .update(
            "presigned",
            &firmware(3_000, 4),
            &[
                ("ota:targets", "thing/dev-1"),
                ("ota:signature", signature),
                ("ota:signature-algorithm", "SHA256withECDSA"),
                ("ota:certfile", "/certs/vendor.pem"),
            ],
        )
        .await;
    assert_eq!(doc["afr_ota"]["files"][0]["sig-sha256-ecdsa"], signature);
    assert_eq!(doc["afr_ota"]["files"][0]["certfile"], "/certs/vendor.pem");
    assert_eq!(doc["afr_ota"]["files"][0]["filesize"], 3_000);
    assert_eq!(
        l.signing_jobs_for(&key).await,
        0,
        "no signing job for pre-signed firmware"
    );
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn bad_tags_fail_with_invalid_request_naming_every_tag_and_create_nothing() {
    let l = Local::connect().await;
    let key = l.unique_key("bad");
    let version = l
        .upload(
            &key,
            &firmware(1_000, 5),
            &[
                ("ota:targets", "Lab"),
                ("ota:retry", "FAILED:11"),
                ("ota:timeot", "10"),
                ("ota:start", "+5m"),
            ],
        )
        .await;
    let done = l.wait_for(&key, &version, 1).await;
    let f = &done[0];
    assert_eq!(f.status, ExecutionStatus::Failed);
    assert_eq!(f.error, "InvalidRequest");
    for tag in ["ota:targets", "ota:retry", "ota:timeot", "ota:start"] {
        assert!(f.cause.contains(tag), "the cause names {tag}: {}", f.cause);
    }
    assert_nothing_created(&l, &key, &version).await;
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn an_rsa_upload_for_the_jobs_parser_is_refused_and_creates_nothing() {
    // The AWS IoT Jobs OTA parser reads only sig-sha256-ecdsa
    // (job_parser.c L304-317): with ota:devices naming it, an RSA
    // pre-signed upload is refused before anything exists.
    let l = Local::connect().await;
    let key = l.unique_key("rsa-jobs-parser");
    let version = l
        .upload(
            &key,
            &firmware(2_000, 6),
            &[
                ("ota:targets", "thing/dev-1"),
                (
                    "ota:signature",
                    "MEUCIQDkRJ1lbcw7xq2yPqDmo3jUxm8bTI9zNr8yFQjH3lG9Og==",
                ),
                ("ota:signature-algorithm", "SHA256withRSA"),
                ("ota:certfile", "/certs/vendor.pem"),
                ("ota:devices", "aws-iot-jobs-parser"),
            ],
        )
        .await;
    let done = l.wait_for(&key, &version, 1).await;
    let f = &done[0];
    assert_eq!(f.status, ExecutionStatus::Failed);
    assert_eq!(f.error, "InvalidRequest", "{}", f.cause);
    assert!(
        f.cause.contains("ota:devices") && f.cause.contains("signature-sha256-ecdsa"),
        "{}",
        f.cause
    );
    assert_nothing_created(&l, &key, &version).await;
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_folder_marker_is_skipped_and_an_empty_object_is_refused_creating_nothing() {
    let l = Local::connect().await;
    let targets = [("ota:targets", "thinggroup/Lab")];
    // The S3 console's "Create folder": a 0-byte object whose key ends in '/'.
    let folder = format!("{}/", l.unique_key("folder"));
    let version = l.upload(&folder, &[], &targets).await;
    let done = l.wait_for(&folder, &version, 1).await;
    done[0].assert_succeeded();
    assert!(
        done[0].output["skipped"]
            .as_str()
            .is_some_and(|s| s.contains("folder marker")),
        "{}",
        done[0].output
    );
    assert_nothing_created(&l, &folder, &version).await;

    let empty = l.unique_key("empty");
    let version = l.upload(&empty, &[], &targets).await;
    let done = l.wait_for(&empty, &version, 1).await;
    assert_eq!(done[0].status, ExecutionStatus::Failed);
    assert_eq!(done[0].error, "InvalidRequest");
    assert!(done[0].cause.contains("is 0 bytes"), "{}", done[0].cause);
    assert_nothing_created(&l, &empty, &version).await;
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn an_execution_started_by_hand_with_the_wrong_input_fails_as_invalid_request() {
    // Not an S3 event: start-signing's input does not deserialize. Without
    // the runner's own deserializing, lambda_runtime would answer with a
    // Rust type name as errorType.
    let l = Local::connect().await;
    let started = l
        .sfn
        .start_execution()
        .state_machine_arn(&l.state_machine)
        .input(r#"{"firmware": "app.bin"}"#)
        .send()
        .await
        .expect("StartExecution");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let done = loop {
        let d = l
            .sfn
            .describe_execution()
            .execution_arn(started.execution_arn())
            .send()
            .await
            .expect("DescribeExecution");
        if d.status() != &ExecutionStatus::Running {
            break d;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(done.status(), &ExecutionStatus::Failed);
    assert_eq!(done.error(), Some("InvalidRequest"), "{:?}", done.cause());
    assert!(
        done.cause()
            .is_some_and(|c| c.contains("the function's input is not what the state machine sends")),
        "{:?}",
        done.cause()
    );
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn the_same_event_twice_ends_with_one_job_and_both_executions_succeed() {
    let l = Local::connect().await;
    let key = l.unique_key("dup");
    let version = l
        .upload(
            &key,
            &firmware(2_000, 6),
            &[("ota:targets", "thinggroup/Lab")],
        )
        .await;
    l.wait_for(&key, &version, 1).await[0].assert_succeeded();
    // Deliver the same event again, as EventBridge's at-least-once delivery may.
    let (_, input) = l.executions_for(&key, Some(&version)).await.remove(0);
    l.sfn
        .start_execution()
        .state_machine_arn(&l.state_machine)
        .input(input.to_string())
        .send()
        .await
        .expect("StartExecution");
    let both = l.wait_for(&key, &version, 2).await;
    for f in &both {
        f.assert_succeeded();
    }
    let job_ids: Vec<&str> = both
        .iter()
        .map(|f| f.output["job"]["jobId"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(job_ids[0], job_ids[1]);
    let created: Vec<bool> = both
        .iter()
        .map(|f| f.output["job"]["created"] == true)
        .collect();
    assert_eq!(
        created.iter().filter(|c| **c).count(),
        1,
        "exactly one execution created the job"
    );
    assert_eq!(
        l.signing_jobs_for(&key).await,
        1,
        "the signer's token made the second start the same job"
    );
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn uploads_outside_the_upload_prefix_and_signer_output_start_nothing() {
    let l = Local::connect().await;
    let other = format!("elsewhere/e2e-{}.bin", std::process::id());
    l.s3.put_object()
        .bucket(&l.bucket)
        .key(&other)
        .body(b"not firmware".to_vec().into())
        .send()
        .await
        .expect("PutObject");
    // A real upload, so the signer writes under the signed prefix too.
    let key = l.unique_key("prefix");
    let version = l
        .upload(
            &key,
            &firmware(1_000, 7),
            &[("ota:targets", "thinggroup/Lab")],
        )
        .await;
    let done = l.wait_for(&key, &version, 1).await;
    let signed_key = done[0].output["signing"]["signedObject"]["key"]
        .as_str()
        .expect("signed key")
        .to_string();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        l.executions_for(&other, None).await.is_empty(),
        "an upload outside the prefix started an execution"
    );
    assert!(
        l.executions_for(&signed_key, None).await.is_empty(),
        "the signer's output started an execution"
    );
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_failed_create_job_removes_the_stream_this_run_created() {
    let l = Local::connect().await;
    let key = l.unique_key("nogroup");
    let version = l
        .upload(
            &key,
            &firmware(1_000, 8),
            &[("ota:targets", "thinggroup/DoesNotExist")],
        )
        .await;
    let done = l.wait_for(&key, &version, 1).await;
    let f = &done[0];
    assert_eq!(f.status, ExecutionStatus::Failed);
    assert_eq!(f.error, "ResourceNotFound", "{}", f.cause);
    assert!(
        f.cause.contains("DoesNotExist") || f.cause.contains("does not exist"),
        "{}",
        f.cause
    );
    assert!(
        !stream_exists(&l, &l.default_stream_id(&key, &version)).await,
        "the stream was cleaned up"
    );
    assert!(!job_exists(&l, &ids::job_id(&l.bucket, &key, &version)).await);
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_newer_upload_to_the_same_key_gets_its_own_job_streaming_its_own_version() {
    let l = Local::connect().await;
    let key = l.unique_key("newer");
    let (a, b) = (firmware(4_000, 9), firmware(6_000, 10));
    let v1 = l
        .upload(&key, &a, &[("ota:targets", "thinggroup/Lab")])
        .await;
    let v2 = l
        .upload(&key, &b, &[("ota:targets", "thinggroup/Lab")])
        .await;
    assert_ne!(v1, v2);
    for (version, fw) in [(&v1, &a), (&v2, &b)] {
        let job_id = l.job_for(&key, version).await;
        let doc: Value = l.job_document(&job_id).await;
        let f = &doc["afr_ota"]["files"][0];
        assert_eq!(f["filesize"], fw.len());
        assert!(
            l.verify(fw, f["sig-sha256-ecdsa"].as_str().unwrap_or_default()),
            "signed its own bytes"
        );
        let stream_id = doc["afr_ota"]["streamname"]
            .as_str()
            .expect("stream")
            .to_string();
        let info = l
            .iot
            .describe_stream()
            .stream_id(&stream_id)
            .send()
            .await
            .expect("DescribeStream");
        assert_eq!(
            stream_files(info.stream_info().expect("info")),
            [(l.bucket.clone(), key.clone(), version.clone())]
        );
    }
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_version_deleted_in_flight_completes_on_its_version_or_fails_clearly() {
    // The race is real: the delete may land before start-signing reads the
    // tags, before the signer reads the bytes, before make-stream's check, or
    // after the job exists. Every outcome must be one of the two allowed.
    let l = Local::connect().await;
    let key = l.unique_key("deleted");
    let version = l
        .upload(
            &key,
            &firmware(50_000, 9),
            &[("ota:targets", "thinggroup/Lab")],
        )
        .await;
    l.s3.delete_object()
        .bucket(&l.bucket)
        .key(&key)
        .version_id(&version)
        .send()
        .await
        .expect("DeleteObject of the uploaded version");
    let done = l.wait_for(&key, &version, 1).await;
    let f = &done[0];
    let job = ids::job_id(&l.bucket, &key, &version);
    match f.status {
        ExecutionStatus::Succeeded => {
            assert!(
                job_exists(&l, &job).await,
                "a run that succeeded made its job"
            );
        }
        ExecutionStatus::Failed => {
            assert!(
                ["SourceNotFound", "SigningFailed"].contains(&f.error.as_str()),
                "{}: {}",
                f.error,
                f.cause
            );
            if f.error == "SourceNotFound" {
                assert!(
                    f.cause.contains(&version),
                    "the cause names the version: {}",
                    f.cause
                );
            }
            assert!(!job_exists(&l, &job).await, "no job after a failed run");
            assert!(
                !stream_exists(&l, &l.default_stream_id(&key, &version)).await,
                "no stream after a failed run"
            );
        }
        ref other => panic!("unexpected status {other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn fifty_duplicate_events_and_fifty_uploads_at_once_make_exactly_fifty_one_jobs() {
    let l = Local::connect().await;
    let targets = [("ota:targets", "thinggroup/Fleet")];
    let dup_key = l.unique_key("storm-dup");
    let dup_version = l.upload(&dup_key, &firmware(4_000, 11), &targets).await;
    l.wait_for(&dup_key, &dup_version, 1).await[0].assert_succeeded();
    let (_, event) = l
        .executions_for(&dup_key, Some(&dup_version))
        .await
        .remove(0);

    // All at once: 50 more deliveries of that event and 50 new uploads.
    let keys: Vec<String> = (0..50)
        .map(|i| l.unique_key(&format!("storm-{i}")))
        .collect();
    let tagging = ota_core::tags::tagging_string(&[(targets[0].0.into(), targets[0].1.into())]);
    let mut starts = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (sfn, machine, input) = (l.sfn.clone(), l.state_machine.clone(), event.to_string());
        starts.spawn(async move {
            sfn.start_execution()
                .state_machine_arn(machine)
                .input(input)
                .send()
                .await
                .map(|_| ())
        });
    }
    let mut uploads = tokio::task::JoinSet::new();
    for (i, key) in keys.iter().enumerate() {
        let (s3, bucket, key, tagging) =
            (l.s3.clone(), l.bucket.clone(), key.clone(), tagging.clone());
        let body = firmware(4_000, i as u8);
        uploads.spawn(async move {
            let out = s3
                .put_object()
                .bucket(bucket)
                .key(&key)
                .body(body.into())
                .tagging(tagging)
                .send()
                .await;
            (
                key,
                out.map(|o| o.version_id().unwrap_or_default().to_string()),
            )
        });
    }
    for started in starts.join_all().await {
        started.expect("StartExecution");
    }
    let uploaded: Vec<(String, String)> = uploads
        .join_all()
        .await
        .into_iter()
        .map(|(k, v)| (k, v.expect("PutObject")))
        .collect();

    let mut wanted = vec![(dup_key.as_str(), dup_version.as_str(), 51)];
    wanted.extend(uploaded.iter().map(|(k, v)| (k.as_str(), v.as_str(), 1)));
    let finished = l.wait_for_all(&wanted, Duration::from_secs(240)).await;
    let mut job_ids = std::collections::BTreeSet::new();
    for runs in &finished {
        for f in runs {
            f.assert_succeeded();
            job_ids.insert(
                f.output["job"]["jobId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
    }
    assert_eq!(
        finished[0].len(),
        51,
        "51 executions for the duplicated version"
    );
    let creators = finished[0]
        .iter()
        .filter(|f| f.output["job"]["created"] == true)
        .count();
    assert_eq!(
        creators, 1,
        "exactly one of the 51 created the job; the rest found it"
    );
    assert_eq!(job_ids.len(), 51, "51 distinct jobs: {job_ids:?}");
    for (key, version) in std::iter::once((dup_key.clone(), dup_version.clone())).chain(uploaded) {
        assert!(
            job_exists(&l, &ids::job_id(&l.bucket, &key, &version)).await,
            "{key}"
        );
    }
    assert_eq!(
        l.signing_jobs_for(&dup_key).await,
        1,
        "the signer's token made every start one signing job"
    );
}

/// A signing profile with the stack default's certificate, on `platform`,
/// whose `certname` (the certificate path in the job document) is `certname`.
async fn profile_like_default(l: &Local, name: &str, platform: &str, certname: &str) {
    let default = l
        .signer
        .get_signing_profile()
        .profile_name("OtaLocalProfile")
        .send()
        .await
        .expect("the stack's default profile (localaws.py prepare)");
    let material = default
        .signing_material()
        .expect("the default profile's signing material")
        .clone();
    l.signer
        .put_signing_profile()
        .profile_name(name)
        .platform_id(platform)
        .signing_material(material)
        .signing_parameters("certname", certname)
        .send()
        .await
        .expect("PutSigningProfile");
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn oversize_inputs_fail_before_anything_is_signed_streamed_or_created() {
    let l = Local::connect().await;
    let run = std::process::id();
    // A certname that leaves the job document no room for a signature.
    let huge_cert = format!("E2eHugeCert{run}");
    let long_certname = "c".repeat(40_000);
    profile_like_default(
        &l,
        &huge_cert,
        "AWSIoTDeviceManagement-SHA256-ECDSA",
        &long_certname,
    )
    .await;
    // A platform that signs at most 16 MB.
    let freertos = format!("E2eFreeRtos{run}");
    profile_like_default(&l, &freertos, "AmazonFreeRTOS-Default", CERTFILE).await;
    // A pre-signed signature larger than devices accept (too long for a
    // tag, so in a manifest): 516 base64 characters, 387 bytes.
    let manifest = format!("manifests/e2e-oversize-signature-{run}.json");
    let body = json!({"customCodeSigning": {
        "signature": "A".repeat(516), "signatureAlgorithm": "SHA256withECDSA", "certfile": "/c"}});
    l.upload(&manifest, body.to_string().as_bytes(), &[]).await;

    // (the tag that makes it oversize, firmware bytes, the field blamed, what the cause says)
    let cases = [
        (
            ("ota:profile", huge_cert.as_str()),
            1_000,
            "ota:profile",
            "CreateJob accepts at most 32768",
        ),
        (
            ("ota:profile", freertos.as_str()),
            16 * 1024 * 1024 + 1,
            "ota:profile",
            "accepts at most 16777216",
        ),
        (
            ("ota:manifest", manifest.as_str()),
            1_000,
            "manifest.customCodeSigning.signature",
            "devices accept at most 384",
        ),
    ];
    for (tag, size, field, want) in cases {
        let key = l.unique_key("oversize");
        let version = l
            .upload(
                &key,
                &firmware(size, 9),
                &[("ota:targets", "thinggroup/Lab"), tag],
            )
            .await;
        let done = l.wait_for(&key, &version, 1).await;
        let f = &done[0];
        assert_eq!(f.status, ExecutionStatus::Failed, "{want}");
        assert_eq!(f.error, "InvalidRequest", "{want}: {}", f.cause);
        assert!(
            f.cause.contains(&format!("{field}: ")),
            "{field}: {}",
            f.cause
        );
        assert!(f.cause.contains(want), "{want}: {}", f.cause);
        assert_nothing_created(&l, &key, &version).await;
    }
}
