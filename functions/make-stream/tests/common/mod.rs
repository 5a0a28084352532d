//! What the make-stream test files that need only an IoT client share.

use aws_smithy_mocks::{mock_client, Rule, RuleMode};
use make_stream::Deps;

/// Deps whose IoT client answers with `iot` (no retries, so an error rule
/// is seen once); every other client has no rules, so any call it makes
/// fails the test.
pub fn iot_only_deps(iot: &[&Rule]) -> Deps {
    Deps {
        s3: mock_client!(aws_sdk_s3, RuleMode::MatchAny, &[]),
        iot: mock_client!(aws_sdk_iot, RuleMode::MatchAny, iot, |c| c
            .retry_config(aws_sdk_iot::config::retry::RetryConfig::disabled())),
        ota_role_arn: "arn:aws:iam::123456789012:role/ota-pipeline-OtaRole".into(),
        tagging: mock_client!(aws_sdk_resourcegroupstagging, RuleMode::MatchAny, &[]),
        signer: mock_client!(aws_sdk_signer, RuleMode::MatchAny, &[]),
        events: mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, &[]),
        package_shadow: Default::default(),
    }
}
