"""The `course-engagement` entry point: dispatch, usage and each subcommand's program name."""

from __future__ import annotations

import sys

import pytest

from course_engagement import cli


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_each_subcommand_help_names_itself(command: str, capsys: pytest.CaptureFixture) -> None:
    program = sys.argv[0]
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: course-engagement {command} ")
    assert sys.argv[0] == program


def test_an_unknown_command_exits_2_and_lists_the_commands(capsys) -> None:
    assert cli.main(["lod"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown command 'lod'")
    assert all(f"  {name}" in err for name in cli.COMMANDS)


def test_no_command_prints_usage_and_exits_2(capsys) -> None:
    assert cli.main([]) == 2
    assert capsys.readouterr().out.startswith("usage: course-engagement <command> [options]")
