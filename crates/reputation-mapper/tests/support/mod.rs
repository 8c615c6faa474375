//! Helpers for the mapper's integration tests.

#![allow(dead_code, unreachable_pub)] // Each test binary uses its own part of these helpers.

pub mod reader;
pub mod table;

use reputation_mapper::{Grouper, MappedIndicators, MapperConfig};

pub use reader::read_list;
pub use table::TestCategories;

/// The owner every test writes to.
pub const OWNER: &str = "Example Org";

/// The default configuration for [`OWNER`].
pub fn default_config() -> MapperConfig {
    MapperConfig::builder(OWNER)
        .build()
        .expect("the defaults are valid")
}

/// The indicators of one list text under `config`.
pub fn map_text(config: &MapperConfig, text: &str) -> MappedIndicators {
    let mut grouper = Grouper::new(config, &TestCategories).expect("the filters are valid");
    read_list(text, &mut grouper);
    grouper.finish()
}

/// The indicators of several list texts, each grouped on its own and merged.
pub fn map_texts(config: &MapperConfig, texts: &[&str]) -> MappedIndicators {
    let mut merged = Grouper::new(config, &TestCategories).expect("the filters are valid");
    for text in texts {
        let mut grouper = Grouper::new(config, &TestCategories).expect("the filters are valid");
        read_list(text, &mut grouper);
        merged.merge(grouper);
    }
    merged.finish()
}
