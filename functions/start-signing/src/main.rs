use start_signing::{handle_request, Deps, Settings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ota_lambda::init_tracing();
    let sdk = ota_lambda::sdk_config().await;
    let deps = Deps::new(
        aws_sdk_s3::Client::new(&sdk),
        aws_sdk_signer::Client::new(&sdk),
        Settings::from_env()?,
    );
    ota_lambda::run(|input| handle_request(input, &deps)).await
}
