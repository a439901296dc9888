//! Prints the OpenAPI document, compact (for the SDK generators, the reference page and
//! docs/openapi.json, which the reference function serves as it is).
fn main() {
    println!("{}", serde_json::to_string(&sellvy_reference::document()).expect("serializable"));
}
