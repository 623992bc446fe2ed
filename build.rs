// refinery embeds migrations at compile time; without this, new files are silently skipped.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
