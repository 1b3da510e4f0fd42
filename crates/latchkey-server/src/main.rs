use clap::Parser;
use latchkey_server::cli::{Cli, Command};
use latchkey_server::{Config, LogFormat};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli.resolve_config() {
        Ok(config) => config,
        Err(error) => return fail(error),
    };
    init_logging(&config);
    let result = match cli.command {
        Command::Serve(_) => serve(&config),
        command => {
            let (stdin, stdout) = (&mut std::io::stdin().lock(), &mut std::io::stdout().lock());
            latchkey_server::commands::run(command, &config, stdin, stdout).map_err(Into::into)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(error),
    }
}

fn fail(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
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
