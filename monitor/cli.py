"""The ``bhxh-monitor`` command line: one group whose subcommands live next to the code they run.

Subcommands are imported only when used, so ``--help`` is instant and ``classify`` does not pay for
the web stack. Add a subcommand by adding a line to ``COMMANDS``.
"""

from __future__ import annotations

import importlib
import sys

import click

from monitor.errors import MonitorError

# name -> ("module:attribute", one-line help shown by --help)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("monitor.service:serve_command", "Run the service: web page and scheduled jobs in one process."),
    "demo": ("monitor.demo:demo_command", "Run the service offline on bundled demo feeds (no internet needed)."),
    "db": ("monitor.db_cli:db_group", "Database schema: upgrade, current revision."),
    "feeds": ("monitor.feeds_cli:feeds_group", "Check feeds.yaml and show each source's health."),
    "collect": ("monitor.collect_cli:collect_command", "Collect feeds once (or on schedule) into the database."),
    "users": ("monitor.users:users_group", "Manage the officers who can log in to the web page."),
    "classify": ("classifiers.cli:classify_command", "Classify JSON Lines items (relevance, sentiment, misleading, category)."),
    "train": ("classifiers.cli:train_command", "Train the classifier from the corpus, seed data and officers' reviews."),
    "pipeline": ("alerts.cli:pipeline_command", "Classify, cluster and detect crises for stored items once."),
    "replay": ("alerts.cli:replay_command", "Replay a JSON Lines stream through the pipeline on a simulated clock."),
    "tickets": ("alerts.cli:tickets_group", "List and work crisis tickets from the command line."),
    "outbox": ("alerts.mail_cli:outbox_group", "Show and deliver queued email."),
    "digest": ("alerts.mail_cli:digest_command", "Render or send the weekly sentiment digest."),
    "report": ("alerts.mail_cli:report_command", "Render the yearly report (due before 1 December)."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        target, _help = COMMANDS[name]
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                raise click.ClickException(f"cli: '{name}' is not available in this build ({exc})")
            raise
        return getattr(module, attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # One-line help from the table, without importing every module.
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bhxh-monitor")
def cli() -> None:
    """bhxh-monitor: media-crisis monitoring for Vietnamese social-insurance (BHXH) communications.

    Data flow: collect (fetch → parse → store) → classify → stories/bursts → tickets → email/digest.
    """


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except MonitorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except SystemExit:
        raise
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
