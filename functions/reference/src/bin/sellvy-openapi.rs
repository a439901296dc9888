//! Prints the OpenAPI document (for the SDK generators and the reference page).
fn main() {
    println!("{}", serde_json::to_string_pretty(&sellvy_reference::document()).expect("serializable"));
}
