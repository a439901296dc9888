//! Every black-box test of Sellvy, in one test binary (one link of the AWS SDKs): each module
//! starts its own gateway with [`sellvy_tests::TestApp`] and speaks HTTP to it, against the
//! local DynamoDB and SQS that `make test` starts.

mod auth_and_keys;
mod bounds;
mod categories;
mod checkout;
mod coupons;
mod dashboard;
mod envelope;
mod idempotency;
mod lambda_events;
mod launch;
mod matrix;
mod payments;
mod products;
mod rate_limits;
mod reviews;
mod routes;
mod sdk;
mod seed_examples;
mod storefront;
mod subscriptions;
mod trust;
mod webhooks;

/// A client of the local stack's DynamoDB outside the API, as an operator's console is: for
/// tests that plant items as older code wrote them, break one, or read what is stored.
pub fn raw_dynamodb() -> aws_sdk_dynamodb::Client {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or("http://127.0.0.1:8000".into());
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}
