// A new migration folder does not change any Rust file, so tell cargo to re-embed when the folders change.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
