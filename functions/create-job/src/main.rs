use create_job::{handle, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ota_lambda::init_tracing();
    let sdk = ota_lambda::sdk_config().await;
    let deps = Deps {
        iot: aws_sdk_iot::Client::new(&sdk),
        ota_role_arn: ota_lambda::env_var("OTA_ROLE_ARN")?,
        now: ota_lambda::now,
    };
    ota_lambda::run(|state| handle(state, &deps)).await
}
