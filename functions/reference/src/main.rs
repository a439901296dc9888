#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    sellvy_api::lambda::run(sellvy_reference::routes).await
}
