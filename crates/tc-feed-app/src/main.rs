//! `tc-feed`: imports the Proofpoint ET Intelligence reputation lists into ThreatConnect.

fn main() {
    eprintln!("tc-feed: the feed job is not built yet; see README.md");
    std::process::exit(2);
}
