//! start-signing against mocked S3 and Signer clients: the exact requests it
//! sends, what it returns, and how each AWS error maps to an errorType.

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::operation::get_object_tagging::GetObjectTaggingOutput;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput;
use aws_sdk_s3::primitives::DateTime;
use aws_sdk_s3::types::{DeleteMarkerEntry, ObjectVersion, Tag};
use aws_sdk_signer::operation::describe_signing_job::DescribeSigningJobOutput;
use aws_sdk_signer::operation::get_signing_profile::GetSigningProfileOutput;
use aws_sdk_signer::operation::start_signing_job::StartSigningJobOutput;
use aws_sdk_signer::types::{
    S3SignedObject, SignedObject, SigningProfileStatus, SigningStatus as SignerStatus,
};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::byte_stream::ByteStream;
use ota_aws::test_support::{
    answer, event, fast_retries, json_error, xml_error, JSON_TRANSIENT, S3_TRANSIENT,
};
use ota_core::event::StartSigningInput;
use ota_core::event::StartSigningOutput;
use ota_core::state::SigningStatus;
use ota_core::{ids, Signing};
use ota_lambda::test_support::capture_logs;
use start_signing::{handle, Deps, Settings};

const BUCKET: &str = "ota-pipeline-firmwarebucket-1a2b3c4d5e6f";
const KEY: &str = "firmware/app-v1.4.bin";
const VERSION: &str = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY";

/// An upload's run: start-signing's state, or the error.
async fn run(
    input: StartSigningInput,
    deps: &Deps,
) -> Result<ota_core::PipelineState, ota_core::OtaError> {
    match handle(input, deps).await? {
        StartSigningOutput::Run(state) => Ok(*state),
        other => panic!("expected the run's state, got {other:?}"),
    }
}

fn input() -> StartSigningInput {
    serde_json::from_str(&event("start-signing.json"))
        .expect("events/start-signing.json is a StartSigningInput")
}

fn settings() -> Settings {
    Settings {
        upload_prefix: "firmware/".into(),
        signed_prefix: "signed/".into(),
        manifest_prefix: "manifests/".into(),
        release_prefix: "releases/".into(),
        defaults: ota_core::request::StackDefaults {
            protocols: "MQTT".into(),
            ..Default::default()
        },
    }
}

/// Signer rules are tried in order; a test's own first-look rule comes before
/// the fallback, which says the signing job is still InProgress.
fn deps(s3_rules: &[&Rule], signer_rules: &[&Rule], settings: Settings) -> Deps {
    deps_retrying(RetryConfig::disabled(), s3_rules, signer_rules, settings)
}

fn deps_retrying(
    retry: RetryConfig,
    s3_rules: &[&Rule],
    signer_rules: &[&Rule],
    settings: Settings,
) -> Deps {
    let versions = manifest_versions();
    let s3_rules: Vec<&Rule> = s3_rules.iter().copied().chain([&versions]).collect();
    let still_signing = describe(SignerStatus::InProgress);
    let signer_rules: Vec<&Rule> = signer_rules
        .iter()
        .copied()
        .chain([&still_signing])
        .collect();
    Deps::new(
        mock_client!(aws_sdk_s3, RuleMode::MatchAny, &s3_rules, |c| c
            .retry_config(retry.clone())),
        mock_client!(aws_sdk_signer, RuleMode::MatchAny, &signer_rules, |c| c
            .retry_config(retry.clone())),
        settings,
    )
}

fn tagging(pairs: &[(&str, &str)]) -> Rule {
    tagging_answering(pairs, "")
}

/// `flaky` names the call that first fails with throttling and a 5xx.
fn tagging_answering(pairs: &[(&str, &str)], flaky: &str) -> Rule {
    let tags: Vec<Tag> = pairs
        .iter()
        .map(|(k, v)| Tag::builder().key(*k).value(*v).build().unwrap())
        .collect();
    let rule = mock!(aws_sdk_s3::Client::get_object_tagging).match_requests(|r| {
        r.bucket() == Some(BUCKET) && r.key() == Some(KEY) && r.version_id() == Some(VERSION)
    });
    answer(flaky, "GetObjectTagging", rule, S3_TRANSIENT, move || {
        GetObjectTaggingOutput::builder()
            .set_tag_set(Some(tags.clone()))
            .build()
            .unwrap()
    })
}

fn profile_ok() -> Rule {
    profile_answering("")
}

fn profile_answering(flaky: &str) -> Rule {
    profile_rule(
        "AWSIoTDeviceManagement-SHA256-ECDSA",
        "ecdsa-signer.crt".into(),
        flaky,
    )
}

fn profile_rule(platform: &'static str, certname: String, flaky: &str) -> Rule {
    let rule = mock!(aws_sdk_signer::Client::get_signing_profile)
        .match_requests(|r| r.profile_name() == Some("OtaProfile"));
    answer(
        flaky,
        "GetSigningProfile",
        rule,
        JSON_TRANSIENT,
        move || {
            GetSigningProfileOutput::builder()
                .profile_name("OtaProfile")
                .platform_id(platform)
                .status(SigningProfileStatus::Active)
                .signing_parameters("certname", certname.clone())
                .build()
        },
    )
}

fn start_ok() -> Rule {
    start_answering("")
}

fn start_answering(flaky: &str) -> Rule {
    let token = ids::signing_token(BUCKET, KEY, VERSION, "OtaProfile", 0);
    let rule = mock!(aws_sdk_signer::Client::start_signing_job).match_requests(move |r| {
        let src = r.source().and_then(|s| s.s3());
        let dst = r.destination().and_then(|d| d.s3());
        src.map(|s| (s.bucket_name(), s.key(), s.version())) == Some((BUCKET, KEY, VERSION))
            && dst.and_then(|d| d.bucket_name()) == Some(BUCKET)
            && dst.and_then(|d| d.prefix()) == Some("signed/")
            && r.profile_name() == Some("OtaProfile")
            && r.client_request_token() == Some(token.as_str())
    });
    answer(flaky, "StartSigningJob", rule, JSON_TRANSIENT, || {
        StartSigningJobOutput::builder().job_id("job-123").build()
    })
}

/// The first look right after StartSigningJob.
fn describe(status: SignerStatus) -> Rule {
    describe_answering(status, "")
}

fn describe_answering(status: SignerStatus, flaky: &str) -> Rule {
    let rule = mock!(aws_sdk_signer::Client::describe_signing_job)
        .match_requests(|r| r.job_id() == Some("job-123"));
    answer(
        flaky,
        "DescribeSigningJob",
        rule,
        JSON_TRANSIENT,
        move || {
            let mut b = DescribeSigningJobOutput::builder()
                .job_id("job-123")
                .status(status.clone())
                .status_reason("certificate expired");
            if status == SignerStatus::Succeeded {
                b = b.signed_object(
                    SignedObject::builder()
                        .s3(S3SignedObject::builder()
                            .bucket_name(BUCKET)
                            .key("signed/job-123")
                            .build())
                        .build(),
                );
            }
            b.build()
        },
    )
}

const GOOD_TAGS: &[(&str, &str)] = &[
    ("ota:targets", "thinggroup/Lab thing/dev-7"),
    ("ota:profile", "OtaProfile"),
    ("ota:start", "2026-12-01T02:00"),
    ("ota:windows", "MON-FRI@02:00/120"),
    ("ota:retry", "FAILED:2 TIMED_OUT:3"),
    ("ota:timeout", "10"),
    ("owner", "fleet team"),
];

#[tokio::test]
async fn valid_tags_start_signing_on_the_exact_version() {
    let (tags, profile, start) = (tagging(GOOD_TAGS), profile_ok(), start_ok());
    let look = describe(SignerStatus::InProgress);
    let d = deps(&[&tags], &[&profile, &start, &look], settings());
    let state = run(input(), &d).await.unwrap();
    assert_eq!(start.num_calls(), 1);
    assert_eq!(look.num_calls(), 1);
    assert_eq!(state.signing.status, SigningStatus::InProgress);
    assert_eq!(state.signing.signed_object, None);
    assert_eq!(state.signing.job_id.as_deref(), Some("job-123"));
    assert_eq!(state.signing.certfile, "ecdsa-signer.crt");
    assert_eq!(state.signing.wait_seconds, 1);
    assert_eq!(state.source.version_id, VERSION);
    assert_eq!(state.source.size, 366816);
    let r = &state.request;
    assert_eq!(
        r.targets,
        [
            "arn:aws:iot:us-east-1:123456789012:thinggroup/Lab",
            "arn:aws:iot:us-east-1:123456789012:thing/dev-7"
        ]
    );
    assert_eq!(r.job_id, ids::job_id(BUCKET, KEY, VERSION));
    assert_eq!(r.timeout_minutes, Some(10));
    assert_eq!(r.retry.len(), 2);
    let s = r.schedule.as_ref().unwrap();
    assert_eq!(s.start_time.as_deref(), Some("2026-12-01T02:00"));
    assert_eq!(
        s.maintenance_windows[0].start_time,
        "cron(0 2 ? * MON-FRI *)"
    );
    assert!(state.execution_id.contains(":execution:ota-update:"));
}

#[tokio::test]
async fn a_signer_already_done_skips_the_wait() {
    let (tags, profile, start) = (tagging(GOOD_TAGS), profile_ok(), start_ok());
    let look = describe(SignerStatus::Succeeded);
    let d = deps(&[&tags], &[&profile, &start, &look], settings());
    let state = run(input(), &d).await.unwrap();
    assert_eq!(look.num_calls(), 1);
    assert_eq!(state.signing.status, SigningStatus::Succeeded);
    assert_eq!(state.signing.wait_seconds, 0);
    assert_eq!(state.signing.attempts, 0);
    let signed = state.signing.signed_object.unwrap();
    assert_eq!(
        (signed.bucket.as_str(), signed.key.as_str()),
        (BUCKET, "signed/job-123")
    );
}

#[tokio::test]
async fn a_signer_that_already_failed_fails_the_run_with_its_reason() {
    let (tags, profile, start) = (tagging(GOOD_TAGS), profile_ok(), start_ok());
    let look = describe(SignerStatus::Failed);
    let d = deps(&[&tags], &[&profile, &start, &look], settings());
    let e = run(input(), &d).await.unwrap_err();
    assert_eq!(e.error_type(), "SigningFailed");
    assert!(e.to_string().contains("certificate expired"), "{e}");
}

#[tokio::test]
async fn a_failed_first_look_is_left_to_await_signing() {
    for response in [
        || json_error(429, "ThrottlingException", "Rate exceeded"),
        || json_error(500, "InternalServiceErrorException", "oops"),
    ] {
        let (tags, profile, start) = (tagging(GOOD_TAGS), profile_ok(), start_ok());
        let look = mock!(aws_sdk_signer::Client::describe_signing_job).then_http_response(response);
        let d = deps(&[&tags], &[&profile, &start, &look], settings());
        let state = run(input(), &d).await.unwrap();
        assert_eq!(look.num_calls(), 1);
        assert_eq!(state.signing.status, SigningStatus::InProgress);
        assert_eq!(state.signing.wait_seconds, 1);
    }
}

#[tokio::test]
async fn invalid_tags_fail_with_every_problem_and_sign_nothing() {
    let tags = tagging(&[
        ("ota:targets", "Lab"),
        ("ota:retry", "FAILED:11"),
        ("ota:timeot", "10"),
        ("ota:start", "+5m"),
    ]);
    let (profile, start) = (profile_ok(), start_ok());
    let d = deps(&[&tags], &[&profile, &start], settings());
    let e = run(input(), &d).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest");
    let fields: Vec<&str> = e.problems().iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "ota:targets",
            "ota:retry",
            "ota:timeot",
            "ota:profile",
            "ota:start"
        ],
        "{e}"
    );
    assert_eq!(
        profile.num_calls() + start.num_calls(),
        0,
        "nothing is signed for an invalid request"
    );
}

#[tokio::test]
async fn stack_defaults_fill_in_and_tags_override() {
    let tags = tagging(&[("ota:protocols", "HTTP")]);
    let (profile, start) = (profile_ok(), start_ok());
    let mut s = settings();
    s.defaults.signing_profile = "OtaProfile".into();
    s.defaults.targets = "thinggroup/Fleet".into();
    let d = deps(&[&tags], &[&profile, &start], s);
    let state = run(input(), &d).await.unwrap();
    assert_eq!(
        state.request.targets,
        ["arn:aws:iot:us-east-1:123456789012:thinggroup/Fleet"]
    );
    assert_eq!(state.request.protocols, [ota_core::values::Protocol::Http]);
    assert_eq!(state.request.presigned_expiry_seconds, Some(3600));
}

const PRE_SIGNED: &[(&str, &str)] = &[
    ("ota:targets", "thing/dev-7"),
    (
        "ota:signature",
        "MEUCIQDkRJ1lbcw7xq2yPqDmo3jUxm8bTI9zNr8yFQjH3lG9Og==",
    ),
    ("ota:signature-algorithm", "SHA256withECDSA"),
    ("ota:certfile", "/certs/ota.pem"),
];

#[tokio::test]
async fn pre_signed_firmware_skips_the_signer() {
    let tags = tagging(PRE_SIGNED);
    let (profile, start) = (profile_ok(), start_ok());
    let d = deps(&[&tags], &[&profile, &start], settings());
    let state = run(input(), &d).await.unwrap();
    assert_eq!(state.signing.status, SigningStatus::NotRequired);
    assert_eq!(state.signing.certfile, "/certs/ota.pem");
    assert!(matches!(state.request.signing, Signing::PreSigned { .. }));
    assert_eq!(profile.num_calls() + start.num_calls(), 0);
}

#[tokio::test]
async fn manifest_is_read_and_tags_win() {
    let tags = tagging(&[
        ("ota:targets", "thinggroup/Lab"),
        ("ota:profile", "OtaProfile"),
        ("ota:manifest", "manifests/app.json"),
        ("ota:timeout", "15"),
    ]);
    let manifest = mock!(aws_sdk_s3::Client::get_object)
        .match_requests(|r| {
            r.bucket() == Some(BUCKET)
                && r.key() == Some("manifests/app.json")
                && r.version_id() == Some("mv-at-upload")
        })
        .then_output(|| {
            GetObjectOutput::builder()
                .version_id("mv-at-upload")
                .body(ByteStream::from_static(
                    br#"{"timeoutConfig":{"inProgressTimeoutInMinutes":30},
                        "schedulingConfig":{"maintenanceWindows":[{"startTime":"cron(0 3 ? * SUN *)","durationInMinutes":60}]}}"#,
                ))
                .build()
        });
    let (profile, start) = (profile_ok(), start_ok());
    let d = deps(&[&tags, &manifest], &[&profile, &start], settings());
    let state = run(input(), &d).await.unwrap();
    assert_eq!(
        state.request.timeout_minutes,
        Some(15),
        "the tag overrides the manifest"
    );
    assert_eq!(
        state.request.schedule.unwrap().maintenance_windows[0].start_time,
        "cron(0 3 ? * SUN *)"
    );
    let read = state.manifest.expect("the manifest version is recorded");
    assert_eq!(
        (read.key.as_str(), read.version_id.as_str()),
        ("manifests/app.json", "mv-at-upload"),
        "the version current at the upload, not the one written after it"
    );
}

#[tokio::test]
async fn a_manifest_written_after_the_upload_or_deleted_before_it_is_refused() {
    let tags = tagging(&[
        ("ota:targets", "thinggroup/Lab"),
        ("ota:profile", "OtaProfile"),
        ("ota:manifest", "manifests/late.json"),
    ]);
    let cases = [
        (
            ListObjectVersionsOutput::builder()
                .versions(version("manifests/late.json", "v-late", upload_plus(1)))
                .build(),
            "did not exist yet when the firmware was uploaded (2026-11-22T10:00:00Z)",
        ),
        (
            ListObjectVersionsOutput::builder()
                .versions(version("manifests/late.json", "v-old", upload_plus(-60)))
                .delete_markers(
                    DeleteMarkerEntry::builder()
                        .key("manifests/late.json")
                        .version_id("dm")
                        .last_modified(upload_plus(-30))
                        .build(),
                )
                .build(),
            "had been deleted when the firmware was uploaded",
        ),
    ];
    for (listing, says) in cases {
        let listed = mock!(aws_sdk_s3::Client::list_object_versions)
            .match_requests(|r| r.prefix() == Some("manifests/late.json"))
            .then_output(move || listing.clone());
        let read = mock!(aws_sdk_s3::Client::get_object)
            .then_output(|| GetObjectOutput::builder().build());
        let (profile, start) = (profile_ok(), start_ok());
        let d = deps(&[&tags, &listed, &read], &[&profile, &start], settings());
        let e = run(input(), &d).await.unwrap_err();
        assert_eq!(e.error_type(), "InvalidRequest", "{e}");
        assert!(e.to_string().contains(says), "{says}: {e}");
        assert_eq!(read.num_calls() + start.num_calls(), 0, "{says}");
    }
}

#[tokio::test]
async fn a_missing_or_misplaced_manifest_is_an_invalid_request() {
    let tags = tagging(&[
        ("ota:targets", "thinggroup/Lab"),
        ("ota:profile", "OtaProfile"),
        ("ota:manifest", "manifests/missing.json"),
    ]);
    let missing = mock!(aws_sdk_s3::Client::get_object)
        .then_http_response(|| xml_error(404, "NoSuchKey", "The specified key does not exist."));
    let (profile, start) = (profile_ok(), start_ok());
    let d = deps(&[&tags, &missing], &[&profile, &start], settings());
    let e = run(input(), &d).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest");
    assert!(e.to_string().contains("ota:manifest: s3://"), "{e}");
    assert_eq!(start.num_calls(), 0);

    let tags = tagging(&[
        ("ota:targets", "thinggroup/Lab"),
        ("ota:profile", "OtaProfile"),
        ("ota:manifest", "firmware/other.json"),
    ]);
    let d = deps(&[&tags], &[&profile, &start], settings());
    let e = run(input(), &d).await.unwrap_err();
    assert!(
        e.to_string().contains("not under the manifest prefix"),
        "{e}"
    );
}

#[tokio::test]
async fn an_event_without_a_version_pins_it_with_head_object() {
    let mut i = input();
    i.event.detail.object.version_id = None;
    let head = mock!(aws_sdk_s3::Client::head_object)
        .match_requests(|r| {
            r.bucket() == Some(BUCKET) && r.key() == Some(KEY) && r.version_id().is_none()
        })
        .then_output(|| {
            HeadObjectOutput::builder()
                .version_id(VERSION)
                .content_length(42)
                .build()
        });
    let (tags, profile, start) = (tagging(GOOD_TAGS), profile_ok(), start_ok());
    let d = deps(&[&head, &tags], &[&profile, &start], settings());
    let state = run(i, &d).await.unwrap();
    assert_eq!(head.num_calls(), 1);
    assert_eq!(state.source.version_id, VERSION);
    assert_eq!(state.source.size, 42);
}

#[tokio::test]
async fn objects_outside_the_upload_prefix_are_refused() {
    let mut i = input();
    i.event.detail.object.key = "signed/2a7d5c1e".into();
    let d = deps(&[], &[], settings());
    let e = run(i, &d).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest");
    assert!(e.to_string().contains("not under the upload prefix"));
}

#[tokio::test]
async fn a_re_run_signs_again_with_its_own_token_and_a_duplicate_reuses_the_first() {
    // `ota retry` sets the event's ota-attempt; S3's own events never do.
    let tokens = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = tokens.clone();
    let start = mock!(aws_sdk_signer::Client::start_signing_job)
        .match_requests(move |r| {
            seen.lock()
                .unwrap()
                .push(r.client_request_token().unwrap_or_default().to_string());
            true
        })
        .then_output(|| StartSigningJobOutput::builder().job_id("job-123").build());
    let (tags, profile) = (tagging(GOOD_TAGS), profile_ok());
    let d = deps(&[&tags], &[&profile, &start], settings());
    let first = run(input(), &d).await.unwrap();
    run(input(), &d).await.unwrap();
    let mut retry = input();
    retry.event.attempt = 1;
    let again = run(retry, &d).await.unwrap();
    // ... and makes a job of its own (never the id of a deleted job).
    assert_eq!(again.request.job_id, format!("{}-r1", first.request.job_id));
    let tokens = tokens.lock().unwrap().clone();
    assert_eq!(tokens.len(), 3);
    assert_eq!(
        tokens[0],
        ids::signing_token(BUCKET, KEY, VERSION, "OtaProfile", 0)
    );
    assert_eq!(
        tokens[0], tokens[1],
        "a duplicate event reuses the signing job"
    );
    assert_eq!(
        tokens[2],
        ids::signing_token(BUCKET, KEY, VERSION, "OtaProfile", 1)
    );
    assert_ne!(tokens[2], tokens[0], "a re-run signs again");
}

#[tokio::test]
async fn empty_objects_folder_markers_and_manifests_are_refused_before_any_call() {
    // No S3 or Signer rule: any AWS call would fail the test with "no rule".
    let d = deps(&[], &[], settings());
    let mut empty = input();
    empty.event.detail.object.size = Some(0);
    let e = run(empty, &d).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest");
    assert!(
        e.to_string()
            .contains(&format!("s3://{BUCKET}/{KEY} is 0 bytes")),
        "{e}"
    );
    let mut folder = input();
    folder.event.detail.object.key = "firmware/releases/".into();
    let e = run(folder, &d).await.unwrap_err();
    assert!(e.to_string().contains("folder marker"), "{e}");
    // A manifest prefix nested under the upload prefix.
    let nested = Settings {
        manifest_prefix: "firmware/manifests/".into(),
        ..settings()
    };
    let d = deps(&[], &[], nested);
    let mut manifest = input();
    manifest.event.detail.object.key = "firmware/manifests/release.json".into();
    let e = run(manifest, &d).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest");
    assert!(e.to_string().contains("under the manifest prefix"), "{e}");
}

#[tokio::test]
async fn profile_problems_are_invalid_requests() {
    let tags = tagging(GOOD_TAGS);
    let missing = mock!(aws_sdk_signer::Client::get_signing_profile)
        .then_http_response(|| json_error(404, "ResourceNotFoundException", "profile not found"));
    let start = start_ok();
    let d = deps(&[&tags], &[&missing, &start], settings());
    let e = run(input(), &d).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest");
    assert!(
        e.to_string()
            .contains("ota:profile: signing profile 'OtaProfile' does not exist"),
        "{e}"
    );

    let tags = tagging(GOOD_TAGS);
    let no_cert = mock!(aws_sdk_signer::Client::get_signing_profile).then_output(|| {
        GetSigningProfileOutput::builder()
            .status(SigningProfileStatus::Canceled)
            .build()
    });
    let d = deps(&[&tags], &[&no_cert, &start], settings());
    let e = run(input(), &d).await.unwrap_err();
    assert_eq!(e.problems().len(), 2, "{e}");
    assert!(e.to_string().contains("is Canceled, not Active"));
    assert!(e.to_string().contains("no 'certname'"));
    assert_eq!(start.num_calls(), 0);
}

#[tokio::test]
async fn aws_errors_map_to_stable_error_types() {
    // (which call fails, the response, the errorType expected)
    type Response = fn() -> aws_smithy_runtime_api::http::Response;
    let cases: Vec<(&str, Response, &str)> = vec![
        (
            "tagging",
            || {
                xml_error(
                    404,
                    "NoSuchVersion",
                    "The specified version does not exist.",
                )
            },
            "SourceNotFound",
        ),
        (
            "tagging",
            || xml_error(403, "AccessDenied", "Access Denied"),
            "AccessDenied",
        ),
        (
            "tagging",
            || xml_error(503, "SlowDown", "Please reduce your request rate."),
            "Throttled",
        ),
        (
            "tagging",
            || xml_error(500, "InternalError", "We encountered an internal error."),
            "ServiceUnavailable",
        ),
        (
            "start",
            || json_error(429, "ThrottlingException", "Rate exceeded"),
            "Throttled",
        ),
        (
            "start",
            || json_error(403, "AccessDeniedException", "not authorized"),
            "AccessDenied",
        ),
        (
            "start",
            || json_error(400, "ValidationException", "bad source"),
            "InvalidRequest",
        ),
        (
            "start",
            || json_error(500, "InternalServiceErrorException", "oops"),
            "ServiceUnavailable",
        ),
        (
            "start",
            || json_error(404, "ResourceNotFoundException", "no such object"),
            "SourceNotFound",
        ),
    ];
    for (which, response, expected) in cases {
        let tags_rule = if which == "tagging" {
            mock!(aws_sdk_s3::Client::get_object_tagging).then_http_response(response)
        } else {
            tagging(GOOD_TAGS)
        };
        let start_rule = if which == "start" {
            mock!(aws_sdk_signer::Client::start_signing_job).then_http_response(response)
        } else {
            start_ok()
        };
        let profile = profile_ok();
        let d = deps(&[&tags_rule], &[&profile, &start_rule], settings());
        let e = run(input(), &d).await.unwrap_err();
        assert_eq!(e.error_type(), expected, "{which}: {e}");
    }
}

#[tokio::test]
async fn logs_carry_the_ids_and_no_signature() {
    let (tags, profile, start) = (tagging(GOOD_TAGS), profile_ok(), start_ok());
    let look = describe(SignerStatus::Succeeded);
    let d = deps(&[&tags], &[&profile, &start, &look], settings());
    let (state, logs) = capture_logs(|| run(input(), &d)).await;
    let state = state.unwrap();
    logs.assert_every_line_names(&state);
    logs.assert_some_line_has("signed_key", "signed/job-123");

    let tags = tagging(PRE_SIGNED);
    let d = deps(&[&tags], &[], settings());
    let (state, logs) = capture_logs(|| run(input(), &d)).await;
    logs.assert_every_line_names(&state.unwrap());
    logs.assert_no_signature_material(PRE_SIGNED[1].1);
}

fn manifest(body: &'static str) -> Rule {
    manifest_answering(body, "")
}

/// events/start-signing.json's upload time (2026-11-22T10:00:00Z) plus
/// `seconds`.
fn upload_plus(seconds: i64) -> DateTime {
    DateTime::from_secs(1_795_341_600 + seconds)
}

fn version(key: &str, id: &str, at: DateTime) -> ObjectVersion {
    ObjectVersion::builder()
        .key(key)
        .version_id(id)
        .last_modified(at)
        .build()
}

/// The versions S3 lists under manifests/app.json: the one current at the
/// upload ("mv-at-upload", written in the upload's own second, which counts
/// as before it), one written five seconds after the upload, an older one,
/// and a key that only shares the prefix.
fn listed_versions() -> ListObjectVersionsOutput {
    ListObjectVersionsOutput::builder()
        .versions(version(
            "manifests/app.json",
            "mv-after-upload",
            upload_plus(5),
        ))
        .versions(version(
            "manifests/app.json",
            "mv-at-upload",
            upload_plus(0),
        ))
        .versions(version(
            "manifests/app.json",
            "mv-older",
            upload_plus(-3600),
        ))
        .versions(version("manifests/app.json.bak", "bak", upload_plus(-1)))
        .is_truncated(false)
        .build()
}

fn manifest_versions() -> Rule {
    manifest_versions_answering("")
}

fn manifest_versions_answering(flaky: &str) -> Rule {
    let rule = mock!(aws_sdk_s3::Client::list_object_versions).match_requests(|r| {
        r.bucket() == Some(BUCKET) && r.prefix().is_some_and(|p| p.starts_with("manifests/"))
    });
    answer(
        flaky,
        "ListObjectVersions",
        rule,
        S3_TRANSIENT,
        listed_versions,
    )
}

fn manifest_answering(body: &'static str, flaky: &str) -> Rule {
    // The version current at the upload, never the newest.
    let rule = mock!(aws_sdk_s3::Client::get_object).match_requests(|r| {
        r.bucket() == Some(BUCKET)
            && r.key() == Some("manifests/app.json")
            && r.version_id() == Some("mv-at-upload")
    });
    answer(flaky, "GetObject", rule, S3_TRANSIENT, move || {
        GetObjectOutput::builder()
            .version_id("mv-at-upload")
            .body(ByteStream::from_static(body.as_bytes()))
            .build()
    })
}

fn head_answering(flaky: &str) -> Rule {
    let rule = mock!(aws_sdk_s3::Client::head_object).match_requests(|r| {
        r.bucket() == Some(BUCKET) && r.key() == Some(KEY) && r.version_id().is_none()
    });
    answer(flaky, "HeadObject", rule, S3_TRANSIENT, || {
        HeadObjectOutput::builder()
            .version_id(VERSION)
            .content_length(42)
            .build()
    })
}

#[tokio::test]
async fn every_call_gets_through_throttling_and_5xx_by_the_sdks_retries() {
    // One run makes every call start-signing has: an event without a version
    // (HeadObject), tags naming a manifest, a profile, and a signer already
    // done at the first look.
    let tags: &[(&str, &str)] = &[
        ("ota:targets", "thinggroup/Lab"),
        ("ota:profile", "OtaProfile"),
        ("ota:manifest", "manifests/app.json"),
    ];
    for flaky in [
        "HeadObject",
        "GetObjectTagging",
        "ListObjectVersions",
        "GetObject",
        "GetSigningProfile",
        "StartSigningJob",
        "DescribeSigningJob",
    ] {
        let s3 = [
            head_answering(flaky),
            tagging_answering(tags, flaky),
            manifest_versions_answering(flaky),
            manifest_answering(
                r#"{"timeoutConfig":{"inProgressTimeoutInMinutes":30}}"#,
                flaky,
            ),
        ];
        let signer = [
            profile_answering(flaky),
            start_answering(flaky),
            describe_answering(SignerStatus::Succeeded, flaky),
        ];
        let d = deps_retrying(
            fast_retries(),
            &s3.iter().collect::<Vec<_>>(),
            &signer.iter().collect::<Vec<_>>(),
            settings(),
        );
        let mut i = input();
        i.event.detail.object.version_id = None;
        let state = run(i, &d).await.unwrap_or_else(|e| panic!("{flaky}: {e}"));
        // Each call once; the flaky one after two failed attempts.
        for r in s3.iter().chain(&signer) {
            assert!(matches!(r.num_calls(), 1 | 3), "{flaky}: {}", r.num_calls());
        }
        let attempts: usize = s3.iter().chain(&signer).map(Rule::num_calls).sum();
        assert_eq!(
            attempts,
            7 + 2,
            "{flaky}: two retries, nothing else repeated"
        );
        assert_eq!(state.source.version_id, VERSION, "{flaky}");
        assert_eq!(state.request.timeout_minutes, Some(30), "{flaky}");
        assert_eq!(state.signing.job_id.as_deref(), Some("job-123"), "{flaky}");
        assert_eq!(state.signing.status, SigningStatus::Succeeded, "{flaky}");
    }
}

#[tokio::test]
async fn no_invalid_request_reaches_the_signer() {
    const BASE: [(&str, &str); 3] = [
        ("ota:targets", "thinggroup/Lab"),
        ("ota:profile", "OtaProfile"),
        ("ota:manifest", "manifests/app.json"),
    ];
    // (the tag that is wrong, the manifest)
    let cases: &[((&str, &str), &'static str)] = &[
        (("ota:timeot", "10"), "{}"),
        (("ota:timeout", " "), "{}"),
        (("ota:windows", "MON@02:00/1431"), "{}"),
        (("ota:description", "a,b"), "{}"),
        (("ota:signature", "MEUCIQ=="), "{}"),
        (("ota:end-behavior", "CANCEL"), "{}"),
        (("team", "fleet"), r#"{"colour":1}"#),
        (("team", "fleet"), "not json"),
        (
            ("team", "fleet"),
            r#"{"timeoutConfig":{"inProgressTimeoutInMinutes":0}}"#,
        ),
    ];
    for (bad, body) in cases {
        let mut tags = BASE.to_vec();
        tags.push(*bad);
        let (tags, m) = (tagging(&tags), manifest(body));
        let (profile, start) = (profile_ok(), start_ok());
        let d = deps(&[&tags, &m], &[&profile, &start], settings());
        let e = run(input(), &d).await.unwrap_err();
        assert_eq!(e.error_type(), "InvalidRequest", "{bad:?} {body}: {e}");
        assert_eq!(
            profile.num_calls() + start.num_calls(),
            0,
            "{bad:?} {body}: the signer was called"
        );
    }
}

#[tokio::test]
async fn oversize_inputs_fail_before_anything_is_signed() {
    // (platform, certname length, firmware size, what the problem says)
    let cases = [
        // A profile whose certname leaves no room in the job document.
        (
            "AWSIoTDeviceManagement-SHA256-ECDSA",
            32_400,
            366_816,
            "with the largest signature devices accept",
        ),
        (
            "AWSIoTDeviceManagement-SHA256-ECDSA",
            40_000,
            366_816,
            "the certificate path 40000",
        ),
        (
            "AmazonFreeRTOS-Default",
            16,
            16 * 1024 * 1024 + 1,
            "accepts at most 16777216",
        ),
        (
            "AWSIoTDeviceManagement-SHA256-ECDSA",
            16,
            2 * 1024 * 1024 * 1024 + 1,
            "accepts at most 2147483648",
        ),
    ];
    for (platform, certname_len, size, want) in cases {
        let mut i = input();
        i.event.detail.object.size = Some(size);
        let (tags, start) = (tagging(GOOD_TAGS), start_ok());
        let profile = profile_rule(platform, "c".repeat(certname_len), "");
        let d = deps(&[&tags], &[&profile, &start], settings());
        let e = run(i, &d).await.unwrap_err();
        assert_eq!(e.error_type(), "InvalidRequest", "{want}: {e}");
        assert_eq!(e.problems()[0].field, "ota:profile", "{e}");
        assert!(e.to_string().contains(want), "{want}: {e}");
        assert_eq!(start.num_calls(), 0, "{want}: nothing is signed");
    }
    // The same limits let a just-fitting update through.
    let (tags, start) = (tagging(GOOD_TAGS), start_ok());
    let profile = profile_rule("AmazonFreeRTOS-Default", "c".repeat(30_000), "");
    let mut i = input();
    i.event.detail.object.size = Some(16 * 1024 * 1024);
    let d = deps(&[&tags], &[&profile, &start], settings());
    run(i, &d).await.unwrap();
    assert_eq!(start.num_calls(), 1);
}

#[tokio::test]
async fn a_package_version_whose_attributes_cannot_fit_3kb_is_refused_before_signing() {
    // ota:register-package: the attributes carry the certificate path and
    // the signature AWS Signer has yet to make, counted at its largest
    // (512 base64 characters); 3 KB in all (ota_core::package_version).
    let with = |reg: &'static str| -> Vec<(&'static str, &'static str)> {
        let mut t = GOOD_TAGS.to_vec();
        t.push(("ota:register-package", reg));
        t
    };
    let (tags, start) = (tagging(&with("App@1.4.0")), start_ok());
    let profile = profile_rule("AmazonFreeRTOS-Default", "c".repeat(2_600), "");
    let d = deps(&[&tags], &[&profile, &start], settings());
    let e = run(input(), &d).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest", "{e}");
    assert_eq!(e.problems()[0].field, "ota:register-package", "{e}");
    assert!(e.to_string().contains("3072"), "{e}");
    assert_eq!(start.num_calls(), 0, "nothing is signed");
    // A certificate path that leaves room for the largest signature fits.
    let (tags, start) = (tagging(&with("App@1.4.0")), start_ok());
    let profile = profile_rule("AmazonFreeRTOS-Default", "c".repeat(1_500), "");
    let d = deps(&[&tags], &[&profile, &start], settings());
    let s = run(input(), &d).await.unwrap();
    assert_eq!(start.num_calls(), 1);
    let reg = s.request.package_registration.expect("registration");
    assert_eq!(
        reg.arn,
        "arn:aws:iot:us-east-1:123456789012:package/App/version/1.4.0"
    );
    assert!(s.request.package_versions.contains(&reg.arn));
}

#[tokio::test]
async fn a_failure_is_logged_with_the_ids_and_its_error_type() {
    // As the runner calls the handler (ota_lambda::run -> invoke): an
    // invalid request, before any job id exists.
    let tags = tagging(&[("ota:timeot", "10")]);
    let d = deps(&[&tags], &[], settings());
    let i = input();
    let execution = i.execution_id.clone();
    let (out, logs) = capture_logs(|| ota_lambda::invoke(i, "req-1".into(), |i| run(i, &d))).await;
    assert!(out.is_err());
    for (field, value) in [
        ("bucket", BUCKET),
        ("key", KEY),
        ("version_id", VERSION),
        ("execution_id", &execution),
    ] {
        logs.assert_every_line_has(field, value);
    }
    logs.assert_some_line_has("error_type", "InvalidRequest");
}

#[tokio::test]
async fn devices_named_refuse_what_they_would_reject_before_signing() {
    // RSA for the AWS IoT Jobs OTA parser, which reads only
    // sig-sha256-ecdsa (job_parser.c L304-317).
    let rsa: &[(&str, &str)] = &[
        ("ota:targets", "thing/dev-7"),
        ("ota:signature", PRE_SIGNED[1].1),
        ("ota:signature-algorithm", "SHA256withRSA"),
        ("ota:certfile", "/certs/ota.pem"),
        ("ota:devices", "aws-iot-jobs-parser"),
    ];
    let tags = tagging(rsa);
    let d = deps(&[&tags], &[], settings());
    let e = run(input(), &d).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest", "{e}");
    assert_eq!(e.problems()[0].field, "ota:devices");
    assert!(
        e.to_string()
            .contains("aws-iot-jobs-parser (signature-sha256-ecdsa, job_parser.c L304-317)"),
        "{e}"
    );

    // With no ota:devices, the same upload goes ahead and the finding is a
    // warning in the log.
    let tags = tagging(&rsa[..4]);
    let d = deps(&[&tags], &[], settings());
    let (state, logs) = capture_logs(|| run(input(), &d)).await;
    assert_eq!(state.unwrap().signing.status, SigningStatus::NotRequired);
    logs.assert_some_line_has("rule", "signature-sha256-ecdsa");

    // A profile-signed upload for the FreeRTOS agent: its signature is not
    // known yet, but HTTP alone is (the agent's default build takes MQTT
    // only: ota_interface.c L85-86).
    let tags = tagging(&[
        ("ota:targets", "thinggroup/Lab"),
        ("ota:profile", "OtaProfile"),
        ("ota:protocols", "HTTP"),
        ("ota:devices", "freertos-ota-agent"),
    ]);
    let (profile, start) = (profile_ok(), start_ok());
    let d = deps(&[&tags], &[&profile, &start], settings());
    let e = run(input(), &d).await.unwrap_err();
    assert!(e.to_string().contains("mqtt-in-default-build"), "{e}");
    assert!(
        !e.to_string().contains("signature"),
        "signature rules wait: {e}"
    );
    assert_eq!(start.num_calls(), 0, "nothing signed");
}

#[tokio::test]
async fn an_aws_fota_upload_is_not_signed_and_ignores_the_stacks_profile() {
    let tags = tagging(&[
        ("ota:targets", "thinggroup/Nrf"),
        ("ota:format", "aws_fota"),
        ("ota:firmware-version", "v1.4.0"),
    ]);
    let (profile, start) = (profile_ok(), start_ok());
    let mut s = settings();
    s.defaults.signing_profile = "OtaProfile".into();
    let d = deps(&[&tags], &[&profile, &start], s);
    let (state, logs) = capture_logs(|| run(input(), &d)).await;
    let state = state.unwrap();
    assert_eq!(state.request.signing, Signing::Unsigned);
    assert_eq!(state.signing.status, SigningStatus::NotRequired);
    assert_eq!(state.signing.certfile, "");
    assert_eq!(state.request.protocols, [ota_core::values::Protocol::Http]);
    assert_eq!(profile.num_calls() + start.num_calls(), 0, "no signer call");
    // Nordic's default path buffer is shorter than a presigned URL: a
    // warning, since no ota:devices was named.
    logs.assert_some_line_has("rule", "url-path-length");

    // Named, the same finding refuses before anything happens.
    let tags = tagging(&[
        ("ota:targets", "thinggroup/Nrf"),
        ("ota:format", "aws_fota"),
        ("ota:devices", "nrf-aws-fota"),
    ]);
    let d = deps(&[&tags], &[], settings());
    let e = run(input(), &d).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest");
    assert!(
        e.to_string().contains("CONFIG_AWS_FOTA_FILE_PATH_MAX_LEN"),
        "{e}"
    );

    // A profile in the tags is refused with the reason.
    let tags = tagging(&[
        ("ota:targets", "thinggroup/Nrf"),
        ("ota:format", "aws_fota"),
        ("ota:profile", "OtaProfile"),
    ]);
    let d = deps(&[&tags], &[], settings());
    let e = run(input(), &d).await.unwrap_err();
    assert_eq!(e.problems()[0].field, "ota:profile");
    assert!(e.to_string().contains("MCUboot"), "{e}");
}
