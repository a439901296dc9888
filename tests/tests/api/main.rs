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
