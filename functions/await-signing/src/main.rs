use await_signing::{handle, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ota_lambda::init_tracing();
    let sdk = ota_lambda::sdk_config().await;
    let deps = Deps {
        signer: aws_sdk_signer::Client::new(&sdk),
        max_wait_seconds: await_signing::max_wait_from_env()?,
        now: ota_lambda::now,
    };
    ota_lambda::run(|state| handle(state, &deps)).await
}
