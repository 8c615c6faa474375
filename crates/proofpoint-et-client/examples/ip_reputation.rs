//! Looks up one IP address's reputation in the ET Intelligence REST API.
//!
//! ```sh
//! export ET_API_KEY=...                                # the REST API key (not the list code)
//! export ET_API_BASE_URL=https://api.example/v1/       # optional; the vendor's API otherwise
//! cargo run -p proofpoint-et-client --example ip_reputation -- 192.0.2.7
//! ```
//!
//! Prints one `category<TAB>score` line per category, highest score first.

use std::env;
use std::net::IpAddr;
use std::process::ExitCode;

use proofpoint_et_client::{ApiClient, ApiKey, DEFAULT_API_BASE_URL};

async fn look_up() -> Result<(), Box<dyn std::error::Error>> {
    let ip: IpAddr = env::args()
        .nth(1)
        .ok_or("give the IP address to look up")?
        .parse()
        .map_err(|error| format!("not an IP address: {error}"))?;
    let key = ApiKey::new(env::var("ET_API_KEY").map_err(|_| "ET_API_KEY is not set")?)?;
    let base_url = env::var("ET_API_BASE_URL").unwrap_or_else(|_| DEFAULT_API_BASE_URL.into());

    let client = ApiClient::builder(key).base_url(base_url).build()?;
    let mut scores = client.ip(ip).reputation().await?;

    scores.sort_by(|a, b| b.score.cmp(&a.score).then(a.category.cmp(&b.category)));
    if scores.is_empty() {
        println!("{ip} is in no reputation category");
    }
    for score in scores {
        println!("{}\t{}", score.category, score.score);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match look_up().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = format!("error: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
