use make_stream::{handle, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ota_lambda::init_tracing();
    let sdk = ota_lambda::sdk_config().await;
    let deps = Deps {
        s3: aws_sdk_s3::Client::new(&sdk),
        iot: aws_sdk_iot::Client::new(&sdk),
        ota_role_arn: ota_lambda::env_var("OTA_ROLE_ARN")?,
        tagging: aws_sdk_resourcegroupstagging::Client::new(&sdk),
        signer: aws_sdk_signer::Client::new(&sdk),
        events: aws_sdk_eventbridge::Client::new(&sdk),
        package_shadow: Default::default(),
    };
    ota_lambda::run(|input| handle(input, &deps)).await
}
