//! Lists the owners a ThreatConnect API user can see: the connectivity check.
//!
//! ```sh
//! export TC_BASE_URL=https://tc.example/api   # no default: name your instance
//! export TC_ACCESS_ID=...  TC_SECRET_KEY=...  # or TC_API_TOKEN=...
//! cargo run -p threatconnect-client --example list_owners
//! ```

use std::env;
use std::process::ExitCode;

use threatconnect_client::{Client, Credentials};

fn credentials_from_env() -> Result<Credentials, String> {
    if let Ok(token) = env::var("TC_API_TOKEN") {
        return Ok(Credentials::token(token));
    }
    let access_id = env::var("TC_ACCESS_ID").map_err(|_| "TC_ACCESS_ID is not set")?;
    let secret_key = env::var("TC_SECRET_KEY").map_err(|_| "TC_SECRET_KEY is not set")?;
    Ok(Credentials::hmac(access_id, secret_key))
}

async fn list_owners() -> Result<(), Box<dyn std::error::Error>> {
    let base_url = env::var("TC_BASE_URL").map_err(|_| "TC_BASE_URL is not set")?;
    let client = Client::builder(&base_url, credentials_from_env()?).build()?;

    for owner in client.owners().await? {
        let kind = owner.kind.as_deref().unwrap_or("?");
        println!("{}\t{}\t{}", owner.id, kind, owner.name);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match list_owners().await {
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
