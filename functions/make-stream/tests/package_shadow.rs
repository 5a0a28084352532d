//! The PackageShadowUpdates custom resource (make-stream's
//! package_shadow mode) against a mocked IoT client and a ResponseURL
//! served on 127.0.0.1: Create and Update turn the account's
//! `versionUpdateByJobsConfig` on with the stack's role (not again when it
//! already is); Delete never turns it off; every failure is still answered
//! FAILED with its errorType, so the stack does not wait out the timeout;
//! an answer that cannot be delivered fails the invocation.

mod common;

use aws_sdk_iot::operation::get_package_configuration::GetPackageConfigurationOutput;
use aws_sdk_iot::operation::update_package_configuration::UpdatePackageConfigurationOutput;
use aws_sdk_iot::types::VersionUpdateByJobsConfig;
use aws_smithy_mocks::{mock, Rule};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use make_stream::{handle, Deps, MakeStreamInput, MakeStreamOutput};
use ota_aws::test_support::{event, json_error};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ROLE: &str = "arn:aws:iam::123456789012:role/ota-pipeline-PackageShadowRole-1A2B3C4D5E6F";
const REQUEST_ID: &str = "5d7c3f0e-2b1a-4c8d-9e6f-0a1b2c3d4e5f";
/// Two short waits for IAM to settle (the function's own are about a minute).
const SETTLE: &[Duration] = &[Duration::from_millis(1), Duration::from_millis(1)];

/// What the ResponseURL received: method, content type, body.
type Received = Arc<Mutex<Vec<(String, Option<String>, serde_json::Value)>>>;

/// A ResponseURL on 127.0.0.1 answering `status`, and what it received.
async fn response_url(status: u16) -> (String, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/cfn-response/abc?X-Amz-Signature=1",
        listener.local_addr().unwrap()
    );
    let received: Received = Arc::default();
    let got = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let got = got.clone();
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let got = got.clone();
                async move {
                    let method = req.method().to_string();
                    let content_type = req
                        .headers()
                        .get(hyper::header::CONTENT_TYPE)
                        .map(|v| v.to_str().unwrap().to_string());
                    let body = req.into_body().collect().await.unwrap().to_bytes();
                    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                    got.lock().unwrap().push((method, content_type, json));
                    hyper::Response::builder()
                        .status(status)
                        .body(Full::new(Bytes::from_static(b"")))
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    (url, received)
}

/// events/package-shadow-updates.json with `request_type` and the local
/// ResponseURL.
fn input(request_type: &str, url: &str) -> MakeStreamInput {
    let mut v: serde_json::Value =
        serde_json::from_str(&event("package-shadow-updates.json")).unwrap();
    v["RequestType"] = request_type.into();
    v["ResponseURL"] = url.into();
    if request_type != "Create" {
        v["PhysicalResourceId"] = "package-shadow-updates".into();
    }
    serde_json::from_value(v).unwrap()
}

fn deps(iot: &[&Rule]) -> Deps {
    Deps {
        package_shadow: make_stream::package_shadow::Settings {
            responder: Default::default(),
            iam_settle: SETTLE,
        },
        ..common::iot_only_deps(iot)
    }
}

/// GetPackageConfiguration answering `enabled` / `role` (None: never set).
fn config_now(enabled: Option<bool>, role: Option<&'static str>) -> Rule {
    mock!(aws_sdk_iot::Client::get_package_configuration).then_output(move || {
        let b = GetPackageConfigurationOutput::builder();
        match enabled {
            None => b.build(),
            Some(on) => b
                .version_update_by_jobs_config(
                    VersionUpdateByJobsConfig::builder()
                        .enabled(on)
                        .set_role_arn(role.map(String::from))
                        .build(),
                )
                .build(),
        }
    })
}

/// An UpdatePackageConfiguration rule that accepts only enabled=true with
/// the stack's role and CloudFormation's RequestId as client token (its
/// calls counted by the rule's own `num_calls`).
fn updates() -> Rule {
    mock!(aws_sdk_iot::Client::update_package_configuration)
        .match_requests(|r| {
            let c = r.version_update_by_jobs_config().unwrap();
            assert_eq!(c.enabled(), Some(true));
            assert_eq!(c.role_arn(), Some(ROLE));
            assert_eq!(r.client_token(), Some(REQUEST_ID));
            true
        })
        .then_output(|| UpdatePackageConfigurationOutput::builder().build())
}

fn the_one_answer(received: &Received) -> serde_json::Value {
    let got = received.lock().unwrap();
    assert_eq!(got.len(), 1, "one PUT: {got:?}");
    let (method, content_type, body) = &got[0];
    assert_eq!(method, "PUT");
    assert_eq!(
        content_type, &None,
        "the presigned URL signs no content type"
    );
    body.clone()
}

#[tokio::test]
async fn create_turns_shadow_updates_on_with_the_stacks_role_and_answers_success() {
    let (url, received) = response_url(200).await;
    let update = updates();
    let get = config_now(None, None);
    let out = handle(input("Create", &url), &deps(&[&get, &update]))
        .await
        .unwrap();
    assert!(matches!(out, MakeStreamOutput::PackageShadow(_)), "{out:?}");
    assert_eq!(update.num_calls(), 1);
    let answer = the_one_answer(&received);
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(answer["PhysicalResourceId"], "package-shadow-updates");
    assert_eq!(answer["RequestId"], REQUEST_ID);
    assert_eq!(answer["LogicalResourceId"], "PackageShadowUpdatesSetting");
    assert!(answer["StackId"]
        .as_str()
        .unwrap()
        .contains(":stack/ota-pipeline/"));
    assert_eq!(answer["Data"]["RoleArn"], ROLE);
    assert_eq!(answer["Data"]["PreviousRoleArn"], "");
    assert_eq!(answer["Data"]["WasEnabled"], "false");
}

#[tokio::test]
async fn update_with_another_role_in_place_names_the_stacks_role_and_says_what_was_there() {
    let (url, received) = response_url(200).await;
    let update = updates();
    let other = "arn:aws:iam::123456789012:role/hand-made-package-role";
    let get = config_now(Some(true), Some(other));
    handle(input("Update", &url), &deps(&[&get, &update]))
        .await
        .unwrap();
    assert_eq!(update.num_calls(), 1);
    let answer = the_one_answer(&received);
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(answer["Data"]["PreviousRoleArn"], other);
    assert_eq!(answer["Data"]["WasEnabled"], "true");
}

#[tokio::test]
async fn already_on_with_the_stacks_role_changes_nothing() {
    let (url, received) = response_url(200).await;
    let update = updates();
    let get = config_now(Some(true), Some(ROLE));
    handle(input("Create", &url), &deps(&[&get, &update]))
        .await
        .unwrap();
    assert_eq!(update.num_calls(), 0, "no UpdatePackageConfiguration");
    let answer = the_one_answer(&received);
    assert_eq!(answer["Status"], "SUCCESS");
    assert!(
        answer["Reason"].as_str().unwrap().contains("already on"),
        "{answer}"
    );
}

#[tokio::test]
async fn delete_never_turns_the_account_setting_off() {
    let (url, received) = response_url(200).await;
    let update = updates();
    let get = config_now(None, None);
    handle(input("Delete", &url), &deps(&[&get, &update]))
        .await
        .unwrap();
    assert_eq!((update.num_calls(), get.num_calls()), (0, 0));
    let answer = the_one_answer(&received);
    assert_eq!(answer["Status"], "SUCCESS");
    assert_eq!(answer["PhysicalResourceId"], "package-shadow-updates");
    assert!(
        answer["Reason"]
            .as_str()
            .unwrap()
            .contains("update-package-configuration"),
        "says how to turn it off: {answer}"
    );
}

#[tokio::test]
async fn iot_errors_are_answered_failed_with_their_error_type() {
    // UpdatePackageConfiguration's documented errors (IoT API reference):
    // ConflictException 409, ThrottlingException 400, ValidationException
    // 400 (tried again while IAM settles, then answered), InternalServerException 500.
    for (status, code, error_type) in [
        (409, "ConflictException", "Conflict"),
        (400, "ThrottlingException", "Throttled"),
        (400, "ValidationException", "InvalidRequest"),
        (500, "InternalServerException", "ServiceUnavailable"),
    ] {
        let (url, received) = response_url(200).await;
        let get = config_now(Some(false), None);
        let update = mock!(aws_sdk_iot::Client::update_package_configuration)
            .then_http_response(move || json_error(status, code, "no"));
        handle(input("Create", &url), &deps(&[&get, &update]))
            .await
            .unwrap();
        let answer = the_one_answer(&received);
        assert_eq!(answer["Status"], "FAILED", "{code}");
        let reason = answer["Reason"].as_str().unwrap();
        assert!(
            reason.starts_with(&format!("{error_type}: "))
                && reason.contains("UpdatePackageConfiguration"),
            "{code}: {reason}"
        );
    }
}

/// events/package-shadow-updates.json with `edit` applied and the local
/// ResponseURL.
fn edited(url: &str, edit: impl FnOnce(&mut serde_json::Value)) -> MakeStreamInput {
    let mut v: serde_json::Value =
        serde_json::from_str(&event("package-shadow-updates.json")).unwrap();
    v["ResponseURL"] = url.into();
    edit(&mut v);
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn a_missing_or_malformed_role_or_request_type_is_answered_failed_before_any_call() {
    for (edit, says) in [
        (
            (|v: &mut serde_json::Value| {
                v["ResourceProperties"]["RoleArn"] = "ota-pipeline-PackageShadowRole".into()
            }) as fn(&mut serde_json::Value),
            "is not an IAM role ARN",
        ),
        (
            |v: &mut serde_json::Value| {
                v["ResourceProperties"]
                    .as_object_mut()
                    .unwrap()
                    .remove("RoleArn");
            },
            "RoleArn",
        ),
        (
            |v: &mut serde_json::Value| v["RequestType"] = "Replace".into(),
            "Create, Update or Delete",
        ),
    ] {
        let (url, received) = response_url(200).await;
        let update = updates();
        handle(edited(&url, edit), &deps(&[&update])).await.unwrap();
        assert_eq!(update.num_calls(), 0);
        let answer = the_one_answer(&received);
        assert_eq!(answer["Status"], "FAILED");
        let reason = answer["Reason"].as_str().unwrap();
        assert!(
            reason.starts_with("InvalidRequest: ") && reason.contains(says),
            "{reason}"
        );
    }
}

#[tokio::test]
async fn access_denied_while_iam_settles_is_tried_again() {
    let (url, received) = response_url(200).await;
    // The first UpdatePackageConfiguration is refused (make-stream's new
    // PassRole not yet in effect), the second accepted.
    let update = mock!(aws_sdk_iot::Client::update_package_configuration)
        .sequence()
        .http_response(|| {
            json_error(
                403,
                "AccessDeniedException",
                "not authorized to perform iam:PassRole",
            )
        })
        .output(|| UpdatePackageConfigurationOutput::builder().build())
        .build();
    let get = config_now(None, None);
    handle(input("Create", &url), &deps(&[&get, &update]))
        .await
        .unwrap();
    assert_eq!(get.num_calls(), 2, "read again before the second try");
    assert_eq!(the_one_answer(&received)["Status"], "SUCCESS");
}

#[tokio::test]
async fn update_and_delete_answer_with_the_physical_id_cloudformation_sent() {
    for request_type in ["Update", "Delete"] {
        let (url, received) = response_url(200).await;
        let get = config_now(Some(true), Some(ROLE));
        let input = edited(&url, |v| {
            v["RequestType"] = request_type.into();
            v["PhysicalResourceId"] = "an-earlier-id".into();
        });
        handle(input, &deps(&[&get])).await.unwrap();
        let answer = the_one_answer(&received);
        assert_eq!(
            answer["PhysicalResourceId"], "an-earlier-id",
            "{request_type}"
        );
    }
}

#[tokio::test]
async fn an_answer_cloudformation_does_not_take_fails_the_invocation() {
    let (url, _) = response_url(403).await;
    let update = updates();
    let get = config_now(None, None);
    let e = handle(input("Create", &url), &deps(&[&get, &update]))
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "ServiceUnavailable");
    assert!(e.to_string().contains("HTTP 403"), "{e}");
}

#[test]
fn cloudformations_request_is_read_as_this_mode_not_as_a_pipeline_state() {
    let v: serde_json::Value = serde_json::from_str(&event("package-shadow-updates.json")).unwrap();
    let input: MakeStreamInput = serde_json::from_value(v).unwrap();
    assert!(
        matches!(input, MakeStreamInput::PackageShadow(_)),
        "{input:?}"
    );
}
