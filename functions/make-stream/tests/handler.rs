//! make-stream against mocked S3 and IoT: the signed object is read, the
//! stream is created over the exact uploaded version, duplicates are
//! idempotent, and clean-up removes only a stream this execution made.

use aws_sdk_iot::operation::create_stream::CreateStreamOutput;
use aws_sdk_iot::operation::delete_stream::DeleteStreamOutput;
use aws_sdk_iot::operation::describe_stream::DescribeStreamOutput;
use aws_sdk_iot::operation::get_job_document::GetJobDocumentOutput;
use aws_sdk_iot::types::{S3Location, StreamFile, StreamInfo};
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::byte_stream::ByteStream;
use make_stream::{handle, Deps, MakeStreamInput, MakeStreamOutput};
use ota_aws::test_support::{
    answer, event, fast_retries, json_error, JSON_TRANSIENT, S3_TRANSIENT,
};
use ota_core::{ids, PipelineState};
use ota_lambda::test_support::capture_logs;

const BUCKET: &str = "ota-pipeline-firmwarebucket-1a2b3c4d5e6f";
const KEY: &str = "firmware/app-v1.4.bin";
const VERSION: &str = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY";
const ROLE: &str = "arn:aws:iam::123456789012:role/ota-pipeline-OtaRole";
const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:ota-update:3f1c2a9e-0b7d-4c55-9d0e-6a1b2c3d4e5f";

fn state() -> PipelineState {
    serde_json::from_str(&event("make-stream.json"))
        .expect("events/make-stream.json is a PipelineState")
}

/// The job id in events/make-stream.json and events/clean-up.json.
const JOB_ID: &str = "AFR_OTA-app-v1_4-5c0b7a1e93d2";

fn stream_id() -> String {
    ids::stream_id(BUCKET, KEY, VERSION, JOB_ID)
}

/// HeadObject on the exact uploaded version: it is still there.
fn firmware_present() -> Rule {
    firmware_present_answering("")
}

/// `flaky` names the call that first fails with throttling and a 5xx.
fn firmware_present_answering(flaky: &str) -> Rule {
    let rule = mock!(aws_sdk_s3::Client::head_object).match_requests(|r| {
        r.bucket() == Some(BUCKET) && r.key() == Some(KEY) && r.version_id() == Some(VERSION)
    });
    answer(flaky, "HeadObject", rule, S3_TRANSIENT, || {
        HeadObjectOutput::builder().content_length(366816).build()
    })
}

/// S3 rules are tried in order; a test's own HeadObject rule comes before the
/// fallback, which finds the firmware version in place.
fn deps(s3: &[&Rule], iot: &[&Rule]) -> Deps {
    deps_retrying(RetryConfig::disabled(), s3, iot)
}

fn deps_retrying(retry: RetryConfig, s3: &[&Rule], iot: &[&Rule]) -> Deps {
    let present = firmware_present();
    let s3: Vec<&Rule> = s3.iter().copied().chain([&present]).collect();
    Deps {
        s3: mock_client!(aws_sdk_s3, RuleMode::MatchAny, &s3, |c| c
            .retry_config(retry.clone())),
        iot: mock_client!(aws_sdk_iot, RuleMode::MatchAny, iot, |c| c
            .retry_config(retry.clone())),
        ota_role_arn: ROLE.into(),
        tagging: mock_client!(aws_sdk_resourcegroupstagging, RuleMode::MatchAny, &[]),
        signer: mock_client!(aws_sdk_signer, RuleMode::MatchAny, &[]),
        events: mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, &[]),
        package_shadow: Default::default(),
    }
}

fn signed_object(body: &'static str) -> Rule {
    signed_object_answering(body, "")
}

fn signed_object_answering(body: &'static str, flaky: &str) -> Rule {
    let rule = mock!(aws_sdk_s3::Client::get_object).match_requests(|r| {
        r.bucket() == Some(BUCKET) && r.key() == Some("signed/2a7d5c1e-6f3b-4b8a-9c0d-1e2f3a4b5c6d")
    });
    answer(flaky, "GetObject", rule, S3_TRANSIENT, move || {
        GetObjectOutput::builder()
            .body(ByteStream::from_static(body.as_bytes()))
            .version_id(SIGNED_VERSION)
            .build()
    })
}

/// The S3 version of the signer's output object the mock serves.
const SIGNED_VERSION: &str = "b5Xk1n7Qz2.wVmP9rT4yLc8HdJ0sAeFg";

const DETACHED: &str = r#"{"rawPayloadSize":366816,"signature":"MEUCIQDkRJ1lbcw7xq2yPqDmo3jUxm8bTI9zNr8yFQjH3lG9Og==","signatureAlgorithm":"SHA256withECDSA","payloadLocation":{"s3":{"bucketName":"ota-pipeline-firmwarebucket-1a2b3c4d5e6f","key":"firmware/app-v1.4.bin","version":"3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"}}}"#;

fn file() -> StreamFile {
    StreamFile::builder()
        .file_id(0)
        .s3_location(
            S3Location::builder()
                .bucket(BUCKET)
                .key(KEY)
                .version(VERSION)
                .build(),
        )
        .build()
}

fn create_ok() -> Rule {
    create_answering("")
}

fn create_answering(flaky: &str) -> Rule {
    let id = stream_id();
    let rule = mock!(aws_sdk_iot::Client::create_stream).match_requests(move |r| {
        r.stream_id() == Some(id.as_str())
            && r.role_arn() == Some(ROLE)
            && r.files() == [file()]
            && r.description().is_some_and(|d| d.contains(EXECUTION))
    });
    answer(flaky, "CreateStream", rule, JSON_TRANSIENT, || {
        CreateStreamOutput::builder()
            .stream_id(stream_id())
            .stream_arn("arn:aws:iot:us-east-1:123456789012:stream/x")
            .stream_version(1)
            .build()
    })
}

fn made(out: MakeStreamOutput) -> PipelineState {
    match out {
        MakeStreamOutput::Made(s) => *s,
        other => panic!("expected a state, got {other:?}"),
    }
}

#[tokio::test]
async fn reads_the_signature_and_streams_the_exact_version() {
    let (obj, create) = (signed_object(DETACHED), create_ok());
    let d = deps(&[&obj], &[&create]);
    let s = made(
        handle(MakeStreamInput::Make(Box::new(state())), &d)
            .await
            .unwrap(),
    );
    assert_eq!(create.num_calls(), 1);
    let f = s.signed_file.unwrap();
    assert_eq!(f.size, 366816);
    assert_eq!(f.signature_algorithm, "SHA256withECDSA");
    assert!(f.signature.starts_with("MEUCIQ"));
    // The version read is what the job's ota:signed-version tag names.
    assert_eq!(f.signed_version_id.as_deref(), Some(SIGNED_VERSION));
    let st = s.stream.unwrap();
    assert_eq!(st.stream_id, stream_id());
    assert_eq!(st.stream_version, 1);
}

#[tokio::test]
async fn a_version_deleted_in_flight_fails_before_any_stream() {
    let (obj, create) = (signed_object(DETACHED), create_ok());
    let gone = mock!(aws_sdk_s3::Client::head_object)
        .then_http_response(|| ota_aws::test_support::xml_error(404, "NotFound", "Not Found"));
    let d = deps(&[&obj, &gone], &[&create]);
    let e = handle(MakeStreamInput::Make(Box::new(state())), &d)
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "SourceNotFound");
    assert!(e.to_string().contains(VERSION), "{e}");
    assert_eq!(gone.num_calls(), 1);
    assert_eq!(create.num_calls(), 0);
}

#[tokio::test]
async fn an_identical_existing_stream_is_success_a_different_one_a_conflict() {
    let exists = || {
        mock!(aws_sdk_iot::Client::create_stream).then_http_response(|| {
            json_error(409, "ResourceAlreadyExistsException", "stream exists")
        })
    };
    let describe = |f: StreamFile| {
        mock!(aws_sdk_iot::Client::describe_stream).then_output(move || {
            DescribeStreamOutput::builder()
                .stream_info(
                    StreamInfo::builder()
                        .stream_id(stream_id())
                        .stream_arn("arn:aws:iot:us-east-1:123456789012:stream/x")
                        .stream_version(3)
                        .files(f.clone())
                        .build(),
                )
                .build()
        })
    };
    let (obj, c, same) = (signed_object(DETACHED), exists(), describe(file()));
    let d = deps(&[&obj], &[&c, &same]);
    let s = made(
        handle(MakeStreamInput::Make(Box::new(state())), &d)
            .await
            .unwrap(),
    );
    assert_eq!(s.stream.unwrap().stream_version, 3);

    let other = StreamFile::builder()
        .file_id(0)
        .s3_location(
            S3Location::builder()
                .bucket(BUCKET)
                .key(KEY)
                .version("other")
                .build(),
        )
        .build();
    let (obj, c, diff) = (signed_object(DETACHED), exists(), describe(other));
    let d = deps(&[&obj], &[&c, &diff]);
    let e = handle(MakeStreamInput::Make(Box::new(state())), &d)
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "Conflict");
}

#[tokio::test]
async fn a_bad_signed_object_creates_no_stream() {
    for (body, want) in [
        (
            r#"{"signature":"MEU=","signatureAlgorithm":"SHA256withECDSA"}"#,
            "no payload",
        ),
        ("not json", "not a JSON object"),
        (
            r#"{"rawPayloadSize":366816,"signature":"MEU=","signatureAlgorithm":"SHA256withECDSA","payloadLocation":{"s3":{"bucketName":"ota-pipeline-firmwarebucket-1a2b3c4d5e6f","key":"firmware/app-v1.4.bin","version":"OTHER"}}}"#,
            "not the uploaded version",
        ),
        (
            r#"{"rawPayloadSize":5,"signature":"MEU=","signatureAlgorithm":"SHA256withECDSA","payloadLocation":{}}"#,
            "366816 bytes",
        ),
        (
            r#"{"rawPayloadSize":366816,"signature":"MEU=","signatureAlgorithm":"MD5withRSA","payloadLocation":{}}"#,
            "signatureAlgorithm",
        ),
    ] {
        let (obj, create) = (signed_object(body), create_ok());
        let d = deps(&[&obj], &[&create]);
        let e = handle(MakeStreamInput::Make(Box::new(state())), &d)
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), "SignedObjectInvalid", "{e}");
        assert!(e.to_string().contains(want), "{want}: {e}");
        assert_eq!(create.num_calls(), 0);
    }
}

#[tokio::test]
async fn an_embedded_signed_object_is_read_without_buffering_the_payload() {
    use base64::Engine;
    let fw = vec![0x5Au8; 366816];
    let body = format!(
        r#"{{"rawPayloadSize":366816,"signature":"MEUCIQ==","signatureAlgorithm":"SHA256withECDSA","payload":"{}"}}"#,
        base64::engine::general_purpose::STANDARD.encode(&fw)
    );
    let body: &'static str = Box::leak(body.into_boxed_str());
    let (obj, create) = (signed_object(body), create_ok());
    let d = deps(&[&obj], &[&create]);
    let s = made(
        handle(MakeStreamInput::Make(Box::new(state())), &d)
            .await
            .unwrap(),
    );
    assert_eq!(s.signed_file.unwrap().size, 366816);
}

#[tokio::test]
async fn create_stream_errors_map() {
    for (code, status, want) in [
        ("ThrottlingException", 429, "Throttled"),
        ("LimitExceededException", 410, "LimitExceeded"),
        ("UnauthorizedException", 401, "AccessDenied"),
        ("InvalidRequestException", 400, "InvalidRequest"),
        ("ServiceUnavailableException", 503, "ServiceUnavailable"),
    ] {
        let r = mock!(aws_sdk_iot::Client::create_stream)
            .then_http_response(move || json_error(status, code, "x"));
        let obj = signed_object(DETACHED);
        let d = deps(&[&obj], &[&r]);
        let e = handle(MakeStreamInput::Make(Box::new(state())), &d)
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), want, "{code}: {e}");
    }
}

fn clean_up_input() -> MakeStreamInput {
    serde_json::from_str(&event("clean-up.json"))
        .expect("events/clean-up.json is a clean-up request")
}

fn described_with(description: String) -> Rule {
    described_answering(description, "")
}

fn described_answering(description: String, flaky: &str) -> Rule {
    let rule = mock!(aws_sdk_iot::Client::describe_stream)
        .match_requests(|r| r.stream_id() == Some(stream_id().as_str()));
    answer(flaky, "DescribeStream", rule, JSON_TRANSIENT, move || {
        DescribeStreamOutput::builder()
            .stream_info(
                StreamInfo::builder()
                    .description(description.clone())
                    .files(file())
                    .build(),
            )
            .build()
    })
}

fn ours() -> String {
    format!("OTA stream for s3://{BUCKET}/{KEY} version {VERSION} (execution {EXECUTION})")
}

/// (the rule, how many attempts it saw)
fn attempts(rules: &[&Rule]) -> Vec<usize> {
    rules.iter().map(|r| r.num_calls()).collect()
}

#[tokio::test]
async fn every_call_gets_through_throttling_and_5xx_by_the_sdks_retries() {
    // Making the stream: read the signed object, check the version, create
    // the stream (one stream, by the third attempt).
    for flaky in ["GetObject", "HeadObject", "CreateStream"] {
        let (obj, head) = (
            signed_object_answering(DETACHED, flaky),
            firmware_present_answering(flaky),
        );
        let create = create_answering(flaky);
        let d = deps_retrying(fast_retries(), &[&obj, &head], &[&create]);
        let out = handle(MakeStreamInput::Make(Box::new(state())), &d).await;
        let s = made(out.unwrap_or_else(|e| panic!("{flaky}: {e}")));
        assert_eq!(s.stream.unwrap().stream_id, stream_id(), "{flaky}");
        let mut n = attempts(&[&obj, &head, &create]);
        n.sort();
        assert_eq!(n, [1, 1, 3], "{flaky}: two retries, nothing else repeated");
    }

    // The stream exists already (a retried run): DescribeStream decides.
    let exists = mock!(aws_sdk_iot::Client::create_stream)
        .then_http_response(|| json_error(409, "ResourceAlreadyExistsException", "exists"));
    let (obj, same) = (
        signed_object(DETACHED),
        described_answering(ours(), "DescribeStream"),
    );
    let d = deps_retrying(fast_retries(), &[&obj], &[&exists, &same]);
    let out = handle(MakeStreamInput::Make(Box::new(state())), &d).await;
    assert_eq!(made(out.unwrap()).stream.unwrap().stream_id, stream_id());
    assert_eq!(attempts(&[&exists, &same]), [1, 3]);

    // Clean-up: is a job using the stream, is it ours, delete it.
    for flaky in ["GetJobDocument", "DescribeStream", "DeleteStream"] {
        let job = answer(
            flaky,
            "GetJobDocument",
            mock!(aws_sdk_iot::Client::get_job_document),
            JSON_TRANSIENT,
            || GetJobDocumentOutput::builder().document("{}").build(),
        );
        let desc = described_answering(ours(), flaky);
        let delete = answer(
            flaky,
            "DeleteStream",
            mock!(aws_sdk_iot::Client::delete_stream),
            JSON_TRANSIENT,
            || DeleteStreamOutput::builder().build(),
        );
        // The look after the delete (a flaky rule answers once only).
        let job_again = mock!(aws_sdk_iot::Client::get_job_document)
            .then_output(|| GetJobDocumentOutput::builder().document("{}").build());
        let d = deps_retrying(fast_retries(), &[], &[&job, &job_again, &desc, &delete]);
        let out = handle(clean_up_input(), &d).await;
        let out = out.unwrap_or_else(|e| panic!("{flaky}: {e}"));
        assert!(
            matches!(out, MakeStreamOutput::CleanedUp(ref r) if r.deleted_stream == Some(stream_id())),
            "{flaky}: {out:?}"
        );
        let looks = job.num_calls() + job_again.num_calls();
        let n = [looks, desc.num_calls(), delete.num_calls()];
        let want = match flaky {
            "GetJobDocument" => [4, 1, 1],
            "DescribeStream" => [2, 3, 1],
            _ => [2, 1, 3],
        };
        assert_eq!(n, want, "{flaky}: two retries, nothing else repeated (the job is looked for before and after the delete)");
    }
}

fn no_job() -> Rule {
    mock!(aws_sdk_iot::Client::get_job_document)
        .then_http_response(|| json_error(404, "ResourceNotFoundException", "no job"))
}

#[tokio::test]
async fn clean_up_deletes_the_stream_this_execution_created() {
    let ours =
        format!("OTA stream for s3://{BUCKET}/{KEY} version {VERSION} (execution {EXECUTION})");
    let (job, desc) = (no_job(), described_with(ours));
    let id = stream_id();
    let delete = mock!(aws_sdk_iot::Client::delete_stream)
        .match_requests(move |r| r.stream_id() == Some(id.as_str()))
        .then_output(|| DeleteStreamOutput::builder().build());
    let d = deps(&[], &[&job, &desc, &delete]);
    let out = handle(clean_up_input(), &d).await.unwrap();
    assert_eq!(delete.num_calls(), 1);
    assert!(matches!(out, MakeStreamOutput::CleanedUp(r) if r.deleted_stream == Some(stream_id())));
}

#[tokio::test]
async fn clean_up_leaves_another_executions_stream_and_a_used_one() {
    let theirs =
        format!("OTA stream for s3://{BUCKET}/{KEY} version {VERSION} (execution arn:other)");
    let (job, desc) = (no_job(), described_with(theirs));
    let delete = mock!(aws_sdk_iot::Client::delete_stream)
        .then_output(|| DeleteStreamOutput::builder().build());
    let d = deps(&[], &[&job, &desc, &delete]);
    handle(clean_up_input(), &d).await.unwrap();
    assert_eq!(delete.num_calls(), 0);

    let id = stream_id();
    let used = mock!(aws_sdk_iot::Client::get_job_document).then_output(move || {
        GetJobDocumentOutput::builder()
            .document(format!(r#"{{"afr_ota":{{"streamname":"{id}"}}}}"#))
            .build()
    });
    let d = deps(&[], &[&used, &delete]);
    handle(clean_up_input(), &d).await.unwrap();
    assert_eq!(delete.num_calls(), 0);
}

/// GetJobDocument answering "no job" first, then a document that names the
/// stream: a duplicate run's create-job made the job in between.
fn job_appears_after_first_look() -> Rule {
    let id = stream_id();
    mock!(aws_sdk_iot::Client::get_job_document)
        .sequence()
        .http_response(|| json_error(404, "ResourceNotFoundException", "no job"))
        .output(move || {
            GetJobDocumentOutput::builder()
                .document(format!(r#"{{"afr_ota":{{"streamname":"{id}"}}}}"#))
                .build()
        })
        .build()
}

#[tokio::test]
async fn clean_up_restores_the_stream_when_a_job_using_it_appears_during_the_delete() {
    // The interleaving create-job's own check after CreateJob cannot see: the
    // other run's job and its check both came before this delete. Clean Up
    // looks again after deleting and puts the same stream back.
    let (job, desc) = (job_appears_after_first_look(), described_with(ours()));
    let delete = mock!(aws_sdk_iot::Client::delete_stream)
        .then_output(|| DeleteStreamOutput::builder().build());
    let create = create_ok();
    let d = deps(&[], &[&job, &desc, &delete, &create]);
    let out = handle(clean_up_input(), &d).await.unwrap();
    assert_eq!(
        [job.num_calls(), delete.num_calls(), create.num_calls()],
        [2, 1, 1],
        "looked, deleted, looked again, recreated"
    );
    let MakeStreamOutput::CleanedUp(r) = out else {
        panic!("{out:?}")
    };
    assert_eq!(r.deleted_stream, None, "{r:?}");
    assert!(r.note.contains("restored"), "{r:?}");
}

#[tokio::test]
async fn clean_up_reads_a_state_it_cannot_parse_by_its_ids() {
    // A state that is not a complete PipelineState (here: no signing block)
    // is not "nothing was created": the stream is still found and deleted.
    let mut input: serde_json::Value = serde_json::from_str(&event("clean-up.json")).unwrap();
    input["cleanUp"]["state"]
        .as_object_mut()
        .unwrap()
        .remove("signing");
    let input: MakeStreamInput = serde_json::from_value(input).unwrap();
    let (job, desc) = (no_job(), described_with(ours()));
    let delete = mock!(aws_sdk_iot::Client::delete_stream)
        .then_output(|| DeleteStreamOutput::builder().build());
    let d = deps(&[], &[&job, &desc, &delete]);
    let out = handle(input, &d).await.unwrap();
    assert!(matches!(out, MakeStreamOutput::CleanedUp(r) if r.deleted_stream == Some(stream_id())));

    // With no ids at all, Clean Up says it cannot tell, and deletes nothing.
    let input: MakeStreamInput = serde_json::from_value(
        serde_json::json!({"cleanUp": {"state": {"source": {"bucket": BUCKET}}}}),
    )
    .unwrap();
    let e = handle(input, &deps(&[], &[])).await.unwrap_err();
    assert_eq!(e.error_type(), "InternalError", "{e}");
    assert!(e.to_string().contains("cannot tell"), "{e}");
}

#[tokio::test]
async fn clean_up_after_start_signing_failed_has_nothing_to_do() {
    let input: MakeStreamInput = serde_json::from_value(serde_json::json!({
        "cleanUp": {"state": {"version": "0", "detail-type": "Object Created", "error": {"Error": "InvalidRequest"}}}
    }))
    .unwrap();
    let d = deps(&[], &[]);
    let out = handle(input, &d).await.unwrap();
    assert!(matches!(out, MakeStreamOutput::CleanedUp(r) if r.deleted_stream.is_none()));
}

#[tokio::test]
async fn logs_carry_the_ids_and_no_signature() {
    let (obj, create) = (signed_object(DETACHED), create_ok());
    let d = deps(&[&obj], &[&create]);
    let (out, logs) = capture_logs(|| handle(MakeStreamInput::Make(Box::new(state())), &d)).await;
    let s = made(out.unwrap());
    logs.assert_every_line_names(&s);
    logs.assert_some_line_has("stream_id", &stream_id());
    logs.assert_no_signature_material(&s.signed_file.unwrap().signature);
}

#[tokio::test]
async fn a_signature_larger_than_devices_accept_creates_no_stream() {
    // 516 base64 characters: 387 bytes, over the 384 devices accept. The
    // signer decides its output, so this is checked after signing but before
    // the stream (and so the job) exists.
    let body = format!(
        r#"{{"rawPayloadSize":366816,"signature":"{}","signatureAlgorithm":"SHA256withECDSA","payloadLocation":{{}}}}"#,
        "A".repeat(516)
    );
    let (obj, create) = (signed_object(Box::leak(body.into_boxed_str())), create_ok());
    let d = deps(&[&obj], &[&create]);
    let e = handle(MakeStreamInput::Make(Box::new(state())), &d)
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "SignedObjectInvalid", "{e}");
    assert!(e.to_string().contains("devices accept at most 384"), "{e}");
    assert_eq!(create.num_calls(), 0);
}

#[tokio::test]
async fn a_failed_clean_up_is_logged_with_the_ids() {
    // As the runner calls the handler (ota_lambda::run -> invoke).
    let job = mock!(aws_sdk_iot::Client::get_job_document)
        .then_http_response(|| json_error(403, "AccessDeniedException", "denied"));
    let d = deps(&[], &[&job]);
    let (out, logs) =
        capture_logs(|| ota_lambda::invoke(clean_up_input(), "req-1".into(), |i| handle(i, &d)))
            .await;
    assert!(out.is_err());
    for (field, value) in [
        ("bucket", BUCKET),
        ("key", KEY),
        ("version_id", VERSION),
        ("execution_id", EXECUTION),
        ("error_type", "AccessDenied"),
    ] {
        logs.assert_some_line_has(field, value);
    }
    logs.assert_every_line_has("execution_id", EXECUTION);
}

/// events/make-stream.json as an aws_fota update: not signed, HTTP only.
fn aws_fota_state() -> PipelineState {
    let mut s = state();
    s.request.format = ota_core::values::DocumentFormat::AwsFota;
    s.request.signing = ota_core::Signing::Unsigned;
    s.request.protocols = vec![ota_core::values::Protocol::Http];
    s.request.presigned_expiry_seconds = Some(3600);
    s.signing.status = ota_core::state::SigningStatus::NotRequired;
    s.signing.job_id = None;
    s.signing.signed_object = None;
    s.signing.certfile = String::new();
    s
}

#[tokio::test]
async fn an_aws_fota_update_reads_no_signature_and_makes_no_stream() {
    let (obj, create) = (signed_object(DETACHED), create_ok());
    let head = firmware_present();
    let d = deps(&[&head, &obj], &[&create]);
    let s = made(
        handle(MakeStreamInput::Make(Box::new(aws_fota_state())), &d)
            .await
            .unwrap(),
    );
    let f = s.signed_file.unwrap();
    assert_eq!((f.size, f.signature.as_str()), (366816, ""));
    assert!(s.stream.is_none());
    assert_eq!(obj.num_calls() + create.num_calls(), 0);
    // The pinned version is still checked: a URL must not point at nothing.
    assert_eq!(head.num_calls(), 1);
}
