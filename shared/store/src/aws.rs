//! The AWS configuration a process loads once, shared by its DynamoDB and SQS clients.
//!
//! Two choices keep a cold start short (docs/performance.md, "What changed"):
//! - **TLS roots**: AWS service endpoints present certificates of Amazon Trust Services, so the
//!   HTTPS client trusts its five roots, embedded here, instead of reading and parsing the
//!   system's whole store (every file of `/etc/ssl/certs` on Debian: most of a function's init).
//!   `SELLVY_TLS_ROOTS=system` trusts the system's store instead (an endpoint behind a proxy of
//!   one's own, or a partition whose endpoints chain elsewhere).
//! - **Credentials**: when the environment holds them (always on Lambda, and in the local stack),
//!   they are read from there, without the default chain's providers (whose web-identity one
//!   builds an STS client during init). Without them the default chain applies (an operator's
//!   profile). The region likewise comes from `AWS_REGION` when it is set.

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};

/// Amazon Root CA 1–4 and Starfield Services Root CA G2: the roots of Amazon Trust Services.
const AMAZON_TRUST_SERVICES: &str = include_str!("../certs/amazon-trust-services.pem");

/// The configuration from the environment (region, endpoints, credentials), with the HTTPS
/// client described above.
pub async fn load() -> SdkConfig {
    let system = std::env::var("SELLVY_TLS_ROOTS").is_ok_and(|v| v == "system");
    let roots = if system {
        TrustStore::default()
    } else {
        TrustStore::empty().with_native_roots(false).with_pem_certificate(AMAZON_TRUST_SERVICES.as_bytes())
    };
    let context =
        TlsContext::builder().with_trust_store(roots).build().expect("a TLS context from fixed settings");
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https);
    // Lambda always sets it; the default region chain would build an IMDS client first.
    if let Ok(region) = std::env::var("AWS_REGION") {
        loader = loader.region(aws_config::Region::new(region));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() && std::env::var_os("AWS_SECRET_ACCESS_KEY").is_some()
    {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    loader.load().await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client is built the way every function builds its own: the embedded roots are parsed
    /// then (a broken file would stop every function at its start).
    #[tokio::test]
    async fn a_client_takes_the_embedded_roots() {
        let config = load().await;
        let _client = aws_sdk_dynamodb::Client::new(&config);
        assert_eq!(AMAZON_TRUST_SERVICES.matches("-----BEGIN CERTIFICATE-----").count(), 5);
    }
}
