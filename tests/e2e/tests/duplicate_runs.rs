//! Two executions for one uploaded version (EventBridge delivers an event
//! twice), interleaved step by step: the functions' handlers called
//! in-process in a fixed order, against the emulator's S3 and IoT. However
//! the steps fall, no job is left pointing at a stream that is gone.
//!
//! The firmware goes under a prefix of its own (`e2e-interleave/`), outside
//! the stack's upload prefix, so the deployed pipeline does not also run on
//! it: only the runs this test drives exist. One interleaving cannot be
//! forced at handler granularity (Clean Up's delete landing between the
//! other run's CreateJob and its look after it); the make-stream handler
//! test `clean_up_restores_the_stream_when_a_job_using_it_appears_during_the_delete`
//! covers it with mocks.

use e2e::{firmware, Local};
use make_stream::{MakeStreamInput, MakeStreamOutput};
use ota_core::PipelineState;
use serde_json::json;

const PREFIX: &str = "e2e-interleave/";
/// A well-formed DER ECDSA signature (the emulator does not verify it; the
/// devices would, which is not what this test is about).
const SIGNATURE: &str = "MEUCIQDkRJ1lbcw7xq2yPqDmo3jUxm8bTI9zNr8yFQjH3lG9OgIgKH2Jx0uY5nG1y8Zq3kz4JmPq7s8B0o1bC2dE3fG4hI0=";

struct Runs {
    l: Local,
    start: start_signing::Deps,
    make: make_stream::Deps,
    create: create_job::Deps,
}

impl Runs {
    async fn new() -> Runs {
        let l = Local::connect().await;
        let outputs: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(e2e::local_dir().join("stack-outputs.json")).unwrap(),
        )
        .unwrap();
        let role = outputs["OtaRoleArn"].as_str().unwrap().to_string();
        let settings = start_signing::Settings {
            upload_prefix: PREFIX.into(),
            signed_prefix: "e2e-interleave-signed/".into(),
            manifest_prefix: "e2e-interleave-manifests/".into(),
            release_prefix: "e2e-interleave-releases/".into(),
            defaults: Default::default(),
        };
        Runs {
            start: start_signing::Deps::new(l.s3.clone(), l.signer.clone(), settings),
            make: make_stream::Deps {
                s3: l.s3.clone(),
                iot: l.iot.clone(),
                ota_role_arn: role.clone(),
                tagging: aws_sdk_resourcegroupstagging::Client::new(&l.config),
                signer: l.signer.clone(),
                events: aws_sdk_eventbridge::Client::new(&l.config),
                package_shadow: Default::default(),
            },
            create: create_job::Deps {
                iot: l.iot.clone(),
                ota_role_arn: role,
                now: ota_lambda::now,
            },
            l,
        }
    }

    /// Pre-signed firmware (no signer wait), MQTT, one thing.
    async fn upload(&self, name: &str) -> (String, String) {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let key = format!("{PREFIX}{name}-{nanos}.bin");
        let version = self
            .l
            .upload(
                &key,
                &firmware(4_000, 3),
                &[
                    ("ota:targets", "thing/dev-1"),
                    ("ota:signature", SIGNATURE),
                    ("ota:signature-algorithm", "SHA256withECDSA"),
                    ("ota:certfile", "/certs/vendor.pem"),
                ],
            )
            .await;
        (key, version)
    }

    /// Start Signing for the upload, as execution `run`.
    async fn start(&self, key: &str, version: &str, run: &str) -> PipelineState {
        let input = serde_json::from_value(json!({
            "event": {
                "version": "0", "id": format!("event-{run}"), "detail-type": "Object Created",
                "source": "aws.s3", "account": "000000000000",
                "time": time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap()
                    .format(&time::format_description::well_known::Rfc3339).unwrap(),
                "region": "us-east-1", "resources": [format!("arn:aws:s3:::{}", self.l.bucket)],
                "detail": {"version": "0", "bucket": {"name": self.l.bucket},
                    "object": {"key": key, "size": 4_000, "version-id": version},
                    "reason": "PutObject"}
            },
            "executionId": format!("arn:aws:states:us-east-1:000000000000:execution:e2e-interleave:{run}")
        }))
        .unwrap();
        match start_signing::handle(input, &self.start).await {
            Ok(ota_core::event::StartSigningOutput::Run(s)) => *s,
            other => panic!("start-signing: {other:?}"),
        }
    }

    async fn make_stream(&self, s: PipelineState) -> PipelineState {
        match make_stream::handle(MakeStreamInput::Make(Box::new(s)), &self.make).await {
            Ok(MakeStreamOutput::Made(s)) => *s,
            other => panic!("make-stream: {other:?}"),
        }
    }

    /// This run failed (its own create-job, say): the state machine's Clean
    /// Up with the state and the error, as the ASL's Catch passes them.
    async fn clean_up(&self, s: &PipelineState) -> make_stream::CleanUpReport {
        let mut state = serde_json::to_value(s).unwrap();
        state["error"] = json!({"Error": "Throttled", "Cause": "CreateJob kept being throttled"});
        let input = serde_json::from_value(json!({"cleanUp": {"state": state}})).unwrap();
        match make_stream::handle(input, &self.make).await {
            Ok(MakeStreamOutput::CleanedUp(r)) => r,
            other => panic!("clean-up: {other:?}"),
        }
    }

    async fn stream_serves(&self, stream_id: &str, key: &str, version: &str) -> bool {
        let Ok(out) = self
            .l
            .iot
            .describe_stream()
            .stream_id(stream_id)
            .send()
            .await
        else {
            return false;
        };
        let files = out.stream_info().map(|i| i.files()).unwrap_or_default();
        files.len() == 1
            && files[0].s3_location().is_some_and(|l| {
                l.bucket() == Some(self.l.bucket.as_str())
                    && l.key() == Some(key)
                    && l.version() == Some(version)
            })
    }

    /// The job exists, and the stream its document names serves the version.
    async fn assert_job_has_its_stream(&self, job_id: &str, key: &str, version: &str) {
        let doc = self.l.job_document(job_id).await;
        let stream = doc["afr_ota"]["streamname"].as_str().expect("streamname");
        assert!(
            self.stream_serves(stream, key, version).await,
            "job {job_id} names stream {stream}, which must exist and serve {key} version {version}"
        );
    }
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn one_runs_clean_up_between_the_others_stream_and_job_leaves_the_job_its_stream() {
    let r = Runs::new().await;
    let (key, version) = r.upload("clean-up-before-job").await;
    let a = r.start(&key, &version, "A").await;
    let b = r.start(&key, &version, "B").await;
    assert_eq!(
        a.request.job_id, b.request.job_id,
        "one version, one job id"
    );

    let a = r.make_stream(a).await; // A creates the stream
    let b = r.make_stream(b).await; // B finds the same stream and takes it
    let stream_id = a.stream.clone().unwrap().stream_id;
    assert_eq!(b.stream.clone().unwrap().stream_id, stream_id);

    // A fails; its Clean Up finds no job yet and deletes the stream it made.
    let report = r.clean_up(&a).await;
    assert_eq!(
        report.deleted_stream.as_deref(),
        Some(stream_id.as_str()),
        "{report:?}"
    );
    assert!(!r.stream_serves(&stream_id, &key, &version).await);

    // B's create-job: the stream is back before the job points at it.
    let b = create_job::handle(b, &r.create).await.expect("create-job");
    assert!(b.job.unwrap().created);
    r.assert_job_has_its_stream(&a.request.job_id, &key, &version)
        .await;
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn one_runs_clean_up_after_the_others_job_leaves_the_stream() {
    let r = Runs::new().await;
    let (key, version) = r.upload("clean-up-after-job").await;
    let a = r.start(&key, &version, "A").await;
    let b = r.start(&key, &version, "B").await;
    let a = r.make_stream(a).await;
    let b = r.make_stream(b).await;
    let b = create_job::handle(b, &r.create).await.expect("create-job");
    let job_id = b.job.clone().unwrap().job_id;

    let report = r.clean_up(&a).await;
    assert_eq!(report.deleted_stream, None, "{report:?}");
    r.assert_job_has_its_stream(&job_id, &key, &version).await;

    // And B, had it failed after all, would not take A's stream either.
    let report = r.clean_up(&b).await;
    assert_eq!(report.deleted_stream, None, "{report:?}");
    r.assert_job_has_its_stream(&job_id, &key, &version).await;
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn runs_that_resolve_different_job_ids_get_a_stream_each() {
    // The tags changed between two runs of one version (PutObjectTagging):
    // they resolve different job ids, so neither's Clean Up can touch the
    // stream the other's job uses.
    let r = Runs::new().await;
    let (key, version) = r.upload("two-job-ids").await;
    let a = r.start(&key, &version, "A").await;
    let mut tags =
        r.l.s3
            .get_object_tagging()
            .bucket(&r.l.bucket)
            .key(&key)
            .version_id(&version)
            .send()
            .await
            .unwrap()
            .tag_set()
            .to_vec();
    tags.push(
        aws_sdk_s3::types::Tag::builder()
            .key("ota:job-id")
            .value(format!(
                "e2e-interleave-{}",
                key.chars().filter(char::is_ascii_digit).collect::<String>()
            ))
            .build()
            .unwrap(),
    );
    r.l.s3
        .put_object_tagging()
        .bucket(&r.l.bucket)
        .key(&key)
        .version_id(&version)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .set_tag_set(Some(tags))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let b = r.start(&key, &version, "B").await;
    assert_ne!(a.request.job_id, b.request.job_id);

    let a = r.make_stream(a).await;
    let b = r.make_stream(b).await;
    assert_ne!(
        a.stream.as_ref().unwrap().stream_id,
        b.stream.as_ref().unwrap().stream_id
    );
    let b = create_job::handle(b, &r.create).await.expect("create-job");
    let report = r.clean_up(&a).await;
    assert_eq!(
        report.deleted_stream.as_deref(),
        Some(a.stream.as_ref().unwrap().stream_id.as_str()),
        "A's own stream goes: {report:?}"
    );
    r.assert_job_has_its_stream(&b.job.unwrap().job_id, &key, &version)
        .await;
}
