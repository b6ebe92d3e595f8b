"""Usernames compared without regard to letter width or case (step 2 of 3): fill the key of every
existing account. The oldest account keeps a name that clashes with a later one; the later account's
key gets ``#<id>`` (a character no username may contain), so it stays unique, and the clash is
printed for the system administrator to rename the later account in the console."""

import unicodedata

from django.db import migrations


def username_key(username):
    # Frozen copy of yuexiu.core.identity.username_key (NFKC_Casefold) as of this migration.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def fill_keys(apps, schema_editor):
    User = apps.get_model("core", "User")
    taken = {}
    for user in User.objects.order_by("date_joined", "id").only("id", "username"):
        key = username_key(user.username)
        if key in taken:
            print(f"\n  用户名“{user.username}”与“{taken[key]}”仅大小写或全角半角不同，请在管理后台为前者改名。")
            key = f"{key}#{user.pk}"
        else:
            taken[key] = user.username
        User.objects.filter(pk=user.pk).update(username_key=key)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0007_user_username_key_added"),
    ]

    operations = [
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
    ]
