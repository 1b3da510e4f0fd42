use clap::Parser;
use latchkey_server::cli::{Cli, ClientCommand, Command, KeysCommand, TokenCommand, UserCommand};
use latchkey_server::{Config, LogFormat};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli.resolve_config() {
        Ok(config) => config,
        Err(error) => return fail(error),
    };
    init_logging(&config);
    match run(cli.command, &config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(error),
    }
}

fn fail(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}

fn run(command: Command, config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let out = &mut std::io::stdout().lock();
    match command {
        Command::Serve(_) => serve(config)?,
        Command::Migrate => latchkey_server::cli::migrate(config, out)?,
        Command::Client(ClientCommand::Add(args)) => latchkey_server::cli::client_add(config, args, out)?,
        Command::Client(ClientCommand::List) => latchkey_server::cli::client_list(config, out)?,
        Command::User(UserCommand::Add(args)) => {
            latchkey_server::cli::user_add(config, args, &mut std::io::stdin().lock(), out)?
        }
        Command::User(UserCommand::List) => latchkey_server::cli::user_list(config, out)?,
        Command::Keys(KeysCommand::Rotate { .. }) => latchkey_server::cli::keys_rotate(config, out)?,
        Command::Keys(KeysCommand::NewEncryptionKey) => latchkey_server::cli::keys_new_encryption_key(out)?,
        Command::RevokeUser { username } => latchkey_server::cli::revoke_user(config, &username, out)?,
        Command::Token(TokenCommand::Create(args)) => latchkey_server::cli::token_create(config, args, out)?,
        Command::Token(TokenCommand::List { user, client }) => {
            latchkey_server::cli::token_list(config, user.as_deref(), client.as_deref(), out)?
        }
        Command::Token(TokenCommand::Revoke { id }) => latchkey_server::cli::token_revoke(config, &id, out)?,
        Command::RevokeClient { client_id } => latchkey_server::cli::revoke_client(config, &client_id, out)?,
    }
    Ok(())
}

fn serve(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    actix_web::rt::System::new().block_on(async {
        let server = latchkey_server::build(config).await?;
        tracing::info!(url = %server.url(), issuer = %server.issuer(), database = %config.database_url, "serving");
        println!("listening on {} (issuer {})", server.url(), server.issuer());
        server.wait().await?;
        Ok(())
    })
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
