//! Fleets of reference devices on MQTT (crates/ota-device over
//! ota_device::mqtt): each agent has its own connection and client id
//! (its thing name) to the emulator's broker, takes its job over the Jobs
//! topics and downloads over the job's MQTT stream (GetStream, CBOR, as
//! the FreeRTOS OTA agent) or its presigned URL, on the deployed local
//! stack.
//!
//! `#[ignore]`d like pipeline.rs: scripts/test.sh runs them with --ignored.

use e2e::mqtt::test_stream_options;
use e2e::{firmware, Local};
use ota_core::devices::{DeviceFamily, NrfLimits};
use ota_device::mqtt::stream::StreamOptions;
use ota_device::{Agent, Outcome};

const FLEET: usize = 20;

async fn run_all(agents: &[Agent]) -> Vec<Outcome> {
    futures_util::future::join_all(agents.iter().map(|a| a.run_once()))
        .await
        .into_iter()
        .map(|r| r.expect("the agent ran"))
        .collect()
}

/// Every outcome SUCCEEDED on `job_id` with `body`, its signature checked,
/// and IoT holds SUCCEEDED; `streamed`: whether it came over the stream.
async fn assert_all_succeeded(
    l: &Local,
    things: &[String],
    outcomes: &[Outcome],
    job_id: &str,
    body: &[u8],
    streamed: impl Fn(usize) -> bool,
) {
    for (i, (thing, outcome)) in things.iter().zip(outcomes).enumerate() {
        match outcome {
            Outcome::Succeeded { job_id: got, files } => {
                let [ota_device::FileDone {
                    path,
                    checked,
                    streamed: stats,
                    ..
                }] = files.as_slice()
                else {
                    panic!("{thing}: one file: {files:?}");
                };
                assert_eq!(got, job_id, "{thing}");
                assert_eq!(*checked, "signature", "{thing}");
                assert_eq!(
                    std::fs::read(path).unwrap(),
                    body,
                    "{thing} wrote the pinned version"
                );
                assert_eq!(stats.is_some(), streamed(i), "{thing}: {stats:?}");
            }
            other => panic!("{thing}: {other:?}"),
        }
        assert_eq!(
            l.execution_status(job_id, thing).await,
            "SUCCEEDED",
            "{thing}"
        );
    }
}

/// FreeRTOS agents for `things` on SigV4 WebSocket, writing under
/// build/local/fleet/NAME.
async fn freertos_agents(l: &Local, things: &[String], name: &str) -> Vec<Agent> {
    let dir = e2e::local_dir().join("fleet").join(name);
    l.ws_fleet(
        things,
        DeviceFamily::FreertosOtaAgent,
        &dir,
        test_stream_options(),
    )
    .await
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn twenty_freertos_devices_on_sigv4_websocket_stream_the_pinned_version_and_succeed() {
    let l = Local::connect().await;
    let (group, things) = l.new_fleet("mqtt", FLEET).await;
    // 20 blocks of 4 KiB and a short last one.
    let body = firmware(20 * 4096 + 1_234, 31);
    let target = format!("thinggroup/{group}");
    let update = l
        .update(
            "fleet-mqtt",
            &body,
            &[("ota:targets", &target), ("ota:protocols", "MQTT")],
        )
        .await;
    l.newer_version_elsewhere(&update.key, 32, &[("ota:protocols", "MQTT")])
        .await;
    let agents = freertos_agents(&l, &things, "mqtt").await;
    let outcomes = run_all(&agents).await;
    assert_all_succeeded(&l, &things, &outcomes, &update.job_id, &body, |_| true).await;
    for outcome in &outcomes {
        if let Some(s) = outcome.only_file().and_then(|f| f.streamed.as_ref()) {
            assert_eq!(s.blocks, 21);
            assert_eq!(s.missing_at_drop, None);
        }
    }
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn an_http_and_mqtt_document_is_streamed_by_freertos_and_fetched_over_http_by_the_jobs_parser(
) {
    let l = Local::connect().await;
    let (group, things) = l.new_fleet("mqtt-http", FLEET).await;
    let body = firmware(50_000, 33);
    let target = format!("thinggroup/{group}");
    // HTTP first: the Jobs parser takes protocols[0] (job_parser.c); the
    // FreeRTOS agent's default build takes MQTT whenever it is offered.
    let update = l
        .update(
            "fleet-mqtt-http",
            &body,
            &[("ota:targets", &target), ("ota:protocols", "HTTP MQTT")],
        )
        .await;
    l.newer_version_elsewhere(&update.key, 34, &[("ota:protocols", "HTTP MQTT")])
        .await;
    let dir = e2e::local_dir().join("fleet").join("mqtt-http");
    let (freertos, parser) = things.split_at(FLEET / 2);
    let mut agents = l
        .ws_fleet(
            freertos,
            DeviceFamily::FreertosOtaAgent,
            &dir,
            test_stream_options(),
        )
        .await;
    agents.extend(
        l.ws_fleet(
            parser,
            DeviceFamily::AwsIotJobsParser,
            &dir,
            test_stream_options(),
        )
        .await,
    );
    let outcomes = run_all(&agents).await;
    assert_all_succeeded(&l, &things, &outcomes, &update.job_id, &body, |i| {
        i < FLEET / 2
    })
    .await;
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_websocket_upgrade_signed_with_a_wrong_secret_is_refused_and_the_right_one_connects() {
    let l = Local::connect().await;
    let thing = l.new_thing("sigv4").await;
    match l
        .connect_ws(&thing, l.device_user_credentials("-wrong"))
        .await
    {
        Err(e) => assert!(
            e.to_string().contains("HTTP error: 403 Forbidden"),
            "refused as the gateway refuses an invalid signature: {e}"
        ),
        Ok(_) => panic!("an upgrade signed with a wrong secret connected"),
    }
    let link = l
        .connect_ws(&thing, l.device_user_credentials(""))
        .await
        .expect("the user's own secret connects");
    let agent = l.mqtt_agent(
        link,
        DeviceFamily::FreertosOtaAgent,
        NrfLimits::default(),
        &e2e::local_dir().join("fleet").join("sigv4"),
        test_stream_options(),
    );
    // Connected and subscribed: the Jobs topics answer (nothing pending).
    assert_eq!(
        agent.run_once().await.expect("the agent ran"),
        Outcome::NoJob
    );
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_device_on_mutual_tls_with_its_own_certificate_streams_its_job_and_succeeds() {
    let l = Local::connect().await;
    let thing = l.new_thing("mtls").await;
    let cert = l.thing_certificate(&thing).await;
    let body = firmware(9_000, 35);
    let target = format!("thing/{thing}");
    let update = l
        .update(
            "mtls",
            &body,
            &[("ota:targets", &target), ("ota:protocols", "MQTT")],
        )
        .await;
    let link = l
        .connect_mtls(&thing, &cert)
        .await
        .expect("mutual TLS connects");
    let agent = l.mqtt_agent(
        link,
        DeviceFamily::FreertosOtaAgent,
        NrfLimits::default(),
        &e2e::local_dir().join("fleet").join("mtls"),
        test_stream_options(),
    );
    let outcome = agent.run_once().await.expect("the agent ran");
    assert_all_succeeded(&l, &[thing], &[outcome], &update.job_id, &body, |_| true).await;
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_device_that_loses_its_connection_mid_stream_asks_again_for_the_missing_blocks_only() {
    let l = Local::connect().await;
    let (group, things) = l.new_fleet("resume", 2).await;
    let body = firmware(30 * 1024 + 100, 36);
    let target = format!("thinggroup/{group}");
    let update = l
        .update(
            "resume",
            &body,
            &[("ota:targets", &target), ("ota:protocols", "MQTT")],
        )
        .await;
    let dir = e2e::local_dir().join("fleet").join("resume");
    for (thing, encoding) in things.iter().zip([
        ota_device::mqtt::stream::Encoding::Cbor,
        ota_device::mqtt::stream::Encoding::Json,
    ]) {
        // 1 KiB blocks, 4 per request: 31 blocks; the drop comes after 10,
        // in the middle of a request.
        let options = StreamOptions {
            block_size: 1024,
            blocks_per_request: 4,
            encoding,
            drop_after_blocks: Some(10),
            ..test_stream_options()
        };
        let agents = l
            .ws_fleet(
                std::slice::from_ref(thing),
                DeviceFamily::FreertosOtaAgent,
                &dir,
                options,
            )
            .await;
        let outcome = agents[0].run_once().await.expect("the agent ran");
        let Some(stats) = outcome.only_file().and_then(|f| f.streamed.as_ref()) else {
            panic!("{thing} ({encoding:?}): {outcome:?}");
        };
        assert_eq!(stats.blocks, 31);
        assert_eq!(stats.missing_at_drop, Some(21), "{encoding:?}: {stats:?}");
        assert_eq!(
            stats.requested_after_drop, 21,
            "{encoding:?}: after the reconnect only the missing blocks are asked for: {stats:?}"
        );
        assert_all_succeeded(
            &l,
            std::slice::from_ref(thing),
            &[outcome],
            &update.job_id,
            &body,
            |_| true,
        )
        .await;
    }
}

/// A fleet's job whose signature does not verify, with `extra` tags.
async fn wrongly_signed(
    l: &Local,
    name: &str,
    n: usize,
    extra: &[(&str, &str)],
) -> (Vec<String>, String) {
    let (group, things) = l.new_fleet(name, n).await;
    let target = format!("thinggroup/{group}");
    let mut tags = vec![
        ("ota:targets", target.as_str()),
        ("ota:protocols", "MQTT"),
        ("ota:signature", e2e::WRONG_SIGNATURE),
        ("ota:signature-algorithm", "SHA256withECDSA"),
        ("ota:certfile", "/certs/ota.pem"),
    ];
    tags.extend_from_slice(extra);
    let update = l.update(name, &firmware(6_000, 37), &tags).await;
    (things, update.job_id)
}

fn assert_failed_on_signature(things: &[String], outcomes: &[Outcome], job_id: &str) {
    for (thing, outcome) in things.iter().zip(outcomes) {
        match outcome {
            Outcome::Failed {
                job_id: got,
                reason,
            } => {
                assert_eq!(got, job_id);
                assert!(reason.contains("signature mismatch"), "{thing}: {reason}");
            }
            other => panic!("{thing}: {other:?}"),
        }
    }
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn with_retry_failed_2_each_device_is_offered_the_failed_job_twice_more_then_nothing() {
    let l = Local::connect().await;
    let (things, job_id) = wrongly_signed(&l, "retry", 4, &[("ota:retry", "FAILED:2")]).await;
    let agents = freertos_agents(&l, &things, "retry").await;
    // The first attempt and the two retries IoT offers after each FAILED.
    for _attempt in 0..3 {
        let outcomes = run_all(&agents).await;
        assert_failed_on_signature(&things, &outcomes, &job_id);
    }
    for outcome in run_all(&agents).await {
        assert_eq!(outcome, Outcome::NoJob, "no third retry");
    }
    for thing in &things {
        let mut attempts: Vec<(i64, i32, String)> = l
            .iot
            .list_job_executions_for_thing()
            .thing_name(thing)
            .send()
            .await
            .expect("ListJobExecutionsForThing")
            .execution_summaries()
            .iter()
            .filter(|s| s.job_id() == Some(job_id.as_str()))
            .filter_map(|s| {
                let e = s.job_execution_summary()?;
                Some((
                    e.execution_number()?,
                    e.retry_attempt()?,
                    e.status()?.as_str().to_string(),
                ))
            })
            .collect();
        attempts.sort();
        let numbers: Vec<i64> = attempts.iter().map(|a| a.0).collect();
        assert_eq!(
            attempts
                .iter()
                .map(|a| (a.1, a.2.as_str()))
                .collect::<Vec<_>>(),
            vec![(0, "FAILED"), (1, "FAILED"), (2, "FAILED")],
            "{thing}: three attempts, each FAILED, retryAttempt 0, 1, 2 (executions {numbers:?})"
        );
        assert!(
            numbers.windows(2).all(|w| w[0] < w[1]),
            "{thing}: {numbers:?}"
        );
    }
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn with_abort_the_job_is_cancelled_once_the_failure_threshold_is_met() {
    let l = Local::connect().await;
    // Cancel once at least 3 things ran and 50% or more of them failed.
    let (things, job_id) = wrongly_signed(&l, "abort", 6, &[("ota:abort", "FAILED:50:3")]).await;
    let agents = freertos_agents(&l, &things, "abort").await;
    let (first, rest) = agents.split_at(3);
    let outcomes = run_all(first).await;
    assert_failed_on_signature(&things[..3], &outcomes, &job_id);
    let job = l.describe_job(&job_id).await;
    assert_eq!(
        job.status().map(|s| s.as_str()),
        Some("CANCELED"),
        "abort criteria met: {job:?}"
    );
    for (thing, outcome) in things[3..].iter().zip(run_all(rest).await) {
        assert_eq!(
            outcome,
            Outcome::NoJob,
            "{thing}: its queued execution was canceled"
        );
        assert_eq!(
            l.execution_status(&job_id, thing).await,
            "CANCELED",
            "{thing}"
        );
    }
}
