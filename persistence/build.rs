// The migrations are embedded at compile time (`embed_migrations!`): a migration added
// or edited must rebuild this crate, which cargo cannot know from the Rust sources.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
