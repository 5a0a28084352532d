//! The agent's Jobs device API calls against aws-smithy-mocks, for what the
//! emulator does not show: nothing pending, a job left alone without a
//! StartNext, and the queue changing between the look and the start.

use aws_sdk_iotjobsdataplane::operation::describe_job_execution::DescribeJobExecutionOutput;
use aws_sdk_iotjobsdataplane::operation::start_next_pending_job_execution::StartNextPendingJobExecutionOutput;
use aws_sdk_iotjobsdataplane::operation::update_job_execution::UpdateJobExecutionOutput;
use aws_sdk_iotjobsdataplane::types::{JobExecution, JobExecutionStatus};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use ota_core::devices::{DeviceFamily, NrfLimits};
use ota_device::{Agent, AgentError, DeviceConfig, Outcome};

fn agent(rules: &[&Rule]) -> Agent {
    let jobs = mock_client!(aws_sdk_iotjobsdataplane, RuleMode::MatchAny, rules);
    Agent::new(
        jobs,
        DeviceConfig {
            thing: "canary-1".into(),
            family: DeviceFamily::AwsIotJobsParser,
            signer_cert: None,
            out_dir: std::env::temp_dir(),
            progress_step_percent: 25,
            nrf_limits: NrfLimits::default(),
            files: ota_device::plan::Files::First,
        },
    )
    .unwrap()
}

fn next_is(job_id: &'static str, document: &'static str) -> Rule {
    mock!(aws_sdk_iotjobsdataplane::Client::describe_job_execution)
        .match_requests(|r| r.job_id() == Some("$next") && r.include_job_document() == Some(true))
        .then_output(move || {
            DescribeJobExecutionOutput::builder()
                .execution(
                    JobExecution::builder()
                        .job_id(job_id)
                        .job_document(document)
                        .build(),
                )
                .build()
        })
}

const MQTT_ONLY: &str = r#"{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-s","files":[{"filepath":"a.bin","filesize":10,"fileid":0,"fileType":0,"certfile":"c","sig-sha256-ecdsa":"MEUCIQ=="}]}}"#;
const HTTP: &str = r#"{"afr_ota":{"protocols":["HTTP"],"files":[{"filepath":"a.bin","filesize":10,"fileid":0,"fileType":0,"certfile":"c","update_data_url":"http://127.0.0.1:1/a","auth_scheme":"aws.s3.presigned","sig-sha256-ecdsa":"MEUCIQ=="}]}}"#;

#[tokio::test]
async fn nothing_pending_is_no_job() {
    let none =
        mock!(aws_sdk_iotjobsdataplane::Client::describe_job_execution).then_http_response(|| {
            let mut r = aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(404).unwrap(),
                aws_smithy_types::body::SdkBody::from(r#"{"message":"no pending job"}"#),
            );
            r.headers_mut()
                .insert("x-amzn-errortype", "ResourceNotFoundException");
            r
        });
    let start = mock!(aws_sdk_iotjobsdataplane::Client::start_next_pending_job_execution)
        .then_output(|| StartNextPendingJobExecutionOutput::builder().build());
    let a = agent(&[&none, &start]);
    assert_eq!(a.run_once().await.unwrap(), Outcome::NoJob);
    assert_eq!(start.num_calls(), 0);
}

#[tokio::test]
async fn jobs_it_cannot_download_or_that_are_not_updates_are_never_started() {
    let start = mock!(aws_sdk_iotjobsdataplane::Client::start_next_pending_job_execution)
        .then_output(|| StartNextPendingJobExecutionOutput::builder().build());
    for (document, want) in [
        (MQTT_ONLY, "MqttOnly"),
        (r#"{"operation":"reboot"}"#, "NotAnUpdate"),
    ] {
        let next = next_is("job-1", document);
        let e = agent(&[&next, &start]).run_once().await.unwrap_err();
        let got = match e {
            AgentError::MqttOnly(_) => "MqttOnly",
            AgentError::NotAnUpdate(_) => "NotAnUpdate",
            other => panic!("{other}"),
        };
        assert_eq!(got, want);
    }
    assert_eq!(start.num_calls(), 0, "left pending");
}

#[tokio::test]
async fn a_job_iot_started_in_a_race_with_the_look_is_reported_failed() {
    let next = next_is("job-1", HTTP);
    let start = mock!(aws_sdk_iotjobsdataplane::Client::start_next_pending_job_execution)
        .then_output(|| {
            StartNextPendingJobExecutionOutput::builder()
                .execution(JobExecution::builder().job_id("job-2").build())
                .build()
        });
    let failed = mock!(aws_sdk_iotjobsdataplane::Client::update_job_execution)
        .match_requests(|r| {
            r.job_id() == Some("job-2") && r.status() == Some(&JobExecutionStatus::Failed)
        })
        .then_output(|| UpdateJobExecutionOutput::builder().build());
    let e = agent(&[&next, &start, &failed])
        .run_once()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("job-2 was reported FAILED"), "{e}");
    assert_eq!(failed.num_calls(), 1);
}
