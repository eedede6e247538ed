from api.crypto import decrypt_secret
from api.models import ApiKey
from tests.factories import MemberFactory


def test_create_api_key_runs_from_manage_py(manage_py):
    """Run the way a user runs it: `python manage.py ...` in a subprocess, system checks included."""
    member = MemberFactory(role="operator")
    result = manage_py("create_api_key", "--user", member.user.username, "--description", "billing sync")
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines() if line.startswith("Secret"))
    key = ApiKey.objects.get(user=member.user)
    assert (lines["SecretId"].strip(), key.description) == (key.secret_id, "billing sync")
    assert decrypt_secret(key.secret_key_encrypted) == lines["SecretKey"].strip()
    assert "cannot be shown again" in result.stdout

    result = manage_py("create_api_key", "--user", "nobody-by-that-name")
    assert result.returncode == 1 and "There is no user 'nobody-by-that-name'." in result.stderr
    assert ApiKey.objects.count() == 1
