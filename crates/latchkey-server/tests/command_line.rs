//! The command line's shape: it parses as documented, and every operator action of the admin API has its
//! command, and every command that is one is exactly one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clap::{CommandFactory, Parser};
use latchkey_endpoints::operations::Operation;
use latchkey_server::cli::{Cli, Command};
use std::collections::BTreeSet;

#[test]
fn command_line_is_well_formed() {
    Cli::command().debug_assert();
}

#[test]
fn serve_flags_parse() {
    let cli = Cli::try_parse_from(["latchkey", "serve", "--bind", "127.0.0.1:0", "--demo"]).unwrap();
    let Command::Serve(args) = &cli.command else { panic!("serve") };
    assert_eq!(args.bind.as_deref(), Some("127.0.0.1:0"));
    assert_eq!(args.demo, Some(true));
    let config = cli.resolve_config_with([]).unwrap();
    assert!(config.demo);
    assert_eq!(config.bind, "127.0.0.1:0");
}

#[test]
fn user_add_needs_exactly_one_password_source() {
    assert!(Cli::try_parse_from(["latchkey", "user", "add", "--username", "a"]).is_err());
    let both = ["latchkey", "user", "add", "--username", "a", "--password", "x", "--password-stdin"];
    assert!(Cli::try_parse_from(both).is_err());
    assert!(Cli::try_parse_from(["latchkey", "user", "add", "--username", "a", "--password-stdin"]).is_ok());
}

/// Record ids are base64url and client ids may hold '-', so an id can begin with one; it is still the id,
/// not an unknown flag, and the flags after it still count.
#[test]
fn identifiers_may_begin_with_a_hyphen() {
    use latchkey_server::cli::{ClientCommand, Id, TokenCommand, Username};
    let cli = Cli::try_parse_from(["latchkey", "token", "revoke", "-VYr5abc_d"]).unwrap();
    let Command::Token(TokenCommand::Revoke(Id { id })) = &cli.command else { panic!("token revoke") };
    assert_eq!(id, "-VYr5abc_d");
    let cli = Cli::try_parse_from(["latchkey", "token", "amend", "--x-y", "--name", "laptop"]).unwrap();
    let Command::Token(TokenCommand::Amend { id, name, .. }) = &cli.command else { panic!("token amend") };
    assert_eq!((id.as_str(), name.as_deref()), ("--x-y", Some("laptop")));
    let cli = Cli::try_parse_from(["latchkey", "client", "rotate-secret", "-app"]).unwrap();
    let Command::Client(ClientCommand::RotateSecret(Id { id })) = &cli.command else {
        panic!("rotate-secret")
    };
    assert_eq!(id, "-app");
    let cli = Cli::try_parse_from(["latchkey", "revoke-user", "-h-"]).unwrap();
    let Command::RevokeUser(Username { username }) = &cli.command else { panic!("revoke-user") };
    assert_eq!(username, "-h-");
}

#[test]
fn public_clients_take_no_secret() {
    let args = [
        "latchkey",
        "client",
        "add",
        "--id",
        "a",
        "--public",
        "--secret",
        "s",
        "--grant-type",
        "authorization_code",
    ];
    assert!(Cli::try_parse_from(args).is_err());
}

/// Every leaf command, with placeholder values for what it requires.
fn leaves(command: &clap::Command, path: Vec<String>, found: &mut Vec<Vec<String>>) {
    if command.get_subcommands().next().is_none() {
        let mut words = path.clone();
        for arg in command.get_arguments().filter(|arg| arg.is_required_set()) {
            match arg.get_long() {
                Some(long) => words.extend([format!("--{long}"), "x".to_owned()]),
                None => words.push("x".to_owned()),
            }
        }
        for group in command.get_groups().filter(|group| group.is_required_set()) {
            let first =
                group.get_args().next().and_then(|id| command.get_arguments().find(|arg| arg.get_id() == id));
            if let Some(long) = first.and_then(|arg| arg.get_long()) {
                words.extend([format!("--{long}"), "x".to_owned()]);
            }
        }
        found.push(words);
        return;
    }
    for sub in command.get_subcommands() {
        let mut deeper = path.clone();
        deeper.push(sub.get_name().to_owned());
        leaves(sub, deeper, found);
    }
}

#[test]
fn every_admin_operation_has_a_command_and_every_command_is_one() {
    let mut found = Vec::new();
    leaves(&Cli::command(), Vec::new(), &mut found);
    let mut operations = BTreeSet::new();
    for words in &found {
        let argv = std::iter::once("latchkey".to_owned()).chain(words.iter().cloned());
        let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{words:?}: {e}"));
        if let Some(operation) = cli.command.operation() {
            assert!(operations.insert(operation), "{operation:?} twice, again at {words:?}");
        }
    }
    assert_eq!(operations, Operation::ALL.into_iter().collect::<BTreeSet<_>>());
}
