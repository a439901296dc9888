//! The operator command and the local gateway as a newcomer runs them: separate processes,
//! talking to the local stack and over HTTP.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn local_env(cmd: &mut Command) -> &mut Command {
    for (k, v) in [
        ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("AWS_REGION", "us-east-1"),
    ] {
        if std::env::var_os(k).is_none() {
            cmd.env(k, v);
        }
    }
    cmd
}

#[tokio::test]
async fn admin_creates_a_store_whose_keys_work_on_the_gateway() {
    let out = local_env(&mut Command::new(env!("CARGO_BIN_EXE_sellvy-admin")))
        .args(["create-store", "--name", "Binary Store", "--plan", "business", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(store["plan"], "business");
    let key = store["keys"]["test"]["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("sk_test_"));
    assert!(store["keys"]["live"]["key"].as_str().unwrap().starts_with("sk_live_"));

    let bad = local_env(&mut Command::new(env!("CARGO_BIN_EXE_sellvy-admin")))
        .args(["create-store", "--name", "X", "--plan", "platinum"])
        .output()
        .unwrap();
    assert!(!bad.status.success());

    let mut child = local_env(&mut Command::new(env!("CARGO_BIN_EXE_sellvy-gateway")))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _gateway = Gateway(child);
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line}")).to_string();

    let http = reqwest::Client::new();
    let created = http
        .post(format!("{base}/v1/products"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"title": "Via binaries", "type": "service", "price": "12.00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let list: serde_json::Value =
        http.get(format!("{base}/v1/products")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["meta"]["total"], 1);
    assert_eq!(list["data"][0]["price"], 12);
}
