//! `tc-feed --help` and the help of each command: complete, within 100 columns, and in step
//! with the configuration reference.

mod cli_support;

use cli_support::{Ran, root, run, tc_feed};

fn help(args: &[&str]) -> Ran {
    let home = tempfile::tempdir().unwrap();
    let ran = run(tc_feed(home.path(), args));
    ran.expect_code(0);
    assert!(ran.stderr.is_empty(), "{}", ran.stderr);
    for line in ran.stdout.lines() {
        assert!(line.chars().count() <= 100, "over 100 columns: {line:?}");
    }
    ran
}

#[test]
fn top_level_help_names_every_command_and_where_settings_come_from() {
    let ran = help(&["--help"]);

    let text = &ran.stdout;
    assert!(
        text.starts_with("Imports the Proofpoint ET Intelligence"),
        "{text}"
    );
    for command in ["run", "check", "map", "state"] {
        let listed = text
            .lines()
            .any(|line| line.trim_start().starts_with(&format!("{command} ")));
        assert!(listed, "{command} is not listed:\n{text}");
    }
    assert!(text.contains("flags win"), "{text}");
    assert!(text.contains("never taken from a flag"), "{text}");
    assert!(text.contains("docs/configuration.md"), "{text}");
}

#[test]
fn each_command_has_help_that_starts_with_what_it_does_and_lists_its_flags() {
    let cases: [(&str, &str, &[&str]); 4] = [
        (
            "run",
            "Runs one import",
            &[
                "--dry-run <DIR>",
                "--full",
                "--allow-mass-removal",
                "--every <DURATION>",
            ],
        ),
        ("check", "Checks the set-up without importing anything", &[]),
        ("map", "Maps one local list file", &["<FILE>", "stderr"]),
        ("state", "Summarises the state", &["--json"]),
    ];
    for (command, starts, flags) in cases {
        let ran = help(&[command, "--help"]);
        assert!(ran.stdout.starts_with(starts), "{command}:\n{}", ran.stdout);
        assert!(
            ran.stdout.contains(&format!("Usage: tc-feed {command}")),
            "{command}:\n{}",
            ran.stdout
        );
        for flag in flags {
            assert!(
                ran.stdout.contains(flag),
                "{command} lacks {flag}:\n{}",
                ran.stdout
            );
        }
        // The settings flags are global: every command takes them.
        assert!(ran.stdout.contains("--config <FILE>"), "{command}");
        assert!(ran.stdout.contains("--owner <NAME>"), "{command}");
    }
}

#[test]
fn help_subcommand_prints_the_same_as_the_flag() {
    assert_eq!(
        help(&["help", "run"]).stdout,
        help(&["run", "--help"]).stdout
    );
}

#[test]
fn every_settings_flag_in_the_help_is_in_the_configuration_reference() {
    let reference = std::fs::read_to_string(root().join("docs/configuration.md")).unwrap();
    let text = help(&["--help"]).stdout;

    let flags: Vec<&str> = text
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with("--"))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|flag| !["--config", "--help", "--version"].contains(flag))
        .collect();

    assert!(flags.len() >= 10, "{flags:?}");
    for flag in flags {
        assert!(
            reference.contains(&format!("`{flag}`")),
            "{flag} is not in docs/configuration.md"
        );
    }
}

#[test]
fn version_names_the_command_and_its_version() {
    let ran = help(&["--version"]);
    assert_eq!(
        ran.stdout.trim(),
        concat!("tc-feed ", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn no_command_is_a_usage_error_that_lists_the_commands() {
    let home = tempfile::tempdir().unwrap();
    let ran = run(tc_feed(home.path(), &[]));

    ran.expect_code(2);
    assert!(ran.stderr.contains("Usage: tc-feed"), "{}", ran.stderr);
    assert!(ran.stderr.contains("run"), "{}", ran.stderr);
}
