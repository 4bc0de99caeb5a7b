"""No secret is committed: the files that hold them at run time are ignored by git, and no tracked file
outside the tests writes a credential into a connection URL (only placeholders and .env variables)."""

import re
import subprocess

from tests.conftest import ROOT

# Words that stand for a password in documentation and examples, never a password themselves (and names in
# capitals, such as TOKEN).
PLACEHOLDERS = {"***", "password", "...", "change-me"}
CREDENTIAL_IN_URL = re.compile(r"[a-z][a-z0-9+]*://([^\s:/@'\"`]*):([^\s@'\"`]+)@")


def _tracked() -> list[str]:
    return subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()


def test_run_time_secrets_are_ignored_and_none_is_tracked():
    ignored = subprocess.run(
        ["git", "check-ignore", ".env", ".local/pii_key", ".local/pg/password"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert ignored == [".env", ".local/pii_key", ".local/pg/password"]
    tracked = _tracked()
    assert ".env.example" in tracked
    assert not [
        p for p in tracked if p == ".env" or p.startswith(".local/") or p.endswith(("pii_key", "/password"))
    ]


def test_no_tracked_file_puts_a_password_in_a_url():
    found = []
    for path in _tracked():
        if path.startswith("tests/"):
            continue  # the tests' throwaway passwords for servers they start themselves
        try:
            text = (ROOT / path).read_text()
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        for match in CREDENTIAL_IN_URL.finditer(text):
            password = match.group(2)
            placeholder = password in PLACEHOLDERS or password.isupper() or password.startswith(("${", "{"))
            if not placeholder:
                found.append(f"{path}: {match.group(0)}")
    assert found == []
