"""Usernames that differ only in letter width or case are one name: for registration, for login and
for the lockout count (ｃｉｔｉｚｅｎ_demo is citizen_demo, Ｗindow_centre is window_centre)."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from yuexiu.core import services
from yuexiu.core.errors import DomainError
from yuexiu.core.models import User

pytestmark = pytest.mark.django_db

JUNE_MORNING = datetime(2025, 6, 18, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
frozen = time_machine.travel(JUNE_MORNING, tick=False)
TAKEN = "该用户名已被注册（不区分大小写和全角半角），请换一个。"


def register_page(client, username: str, password: str, id_number: str = "11010519491231002X"):
    return client.post(
        "/accounts/register/",
        {"account_type": "citizen", "username": username, "full_name": "新用户", "id_number": id_number,
         "phone": "", "password": password},
    )  # fmt: skip


@frozen
@pytest.mark.parametrize(
    "look_alike", ["ｃｉｔｉｚｅｎ_demo", "CITIZEN_DEMO", "Ｗindow_centre", "ＷＩＮＤＯＷ＿ＣＥＮＴＲＥ"]
)
def test_registering_a_look_alike_of_a_taken_name_is_refused_on_the_page(client, cast, password, look_alike):
    response = register_page(client, look_alike, password)
    assert response.status_code == 200
    assert TAKEN in response.content.decode()
    assert User.objects.filter(full_name="新用户").count() == 0


@frozen
def test_a_full_width_name_is_stored_in_ordinary_letters(reference_data, password):
    user = services.register_citizen(
        username="Ｌｉ_Ｍｉｎｇ", password=password, full_name="黎明", id_number="11010519491231002X"
    )
    assert (user.username, user.username_key) == ("Li_Ming", "li_ming")


@frozen
@pytest.mark.parametrize(
    ("typed", "account"), [("ｃｉｔｉｚｅｎ_demo", "citizen_demo"), ("Ｗindow_centre", "window_centre")]
)
def test_logging_in_with_a_full_width_or_capitalised_spelling_finds_the_account(client, cast, password, typed, account):
    response = client.post("/accounts/login/", {"username": typed, "password": password})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast[account].pk)


@frozen
def test_the_database_refuses_a_look_alike_name_whatever_path_creates_it(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="Ｗindow_centre", account_type="citizen")
    assert User.objects.filter(username_key="window_centre").count() == 1


@frozen
def test_renaming_an_account_keeps_its_key_in_step(cast):
    citizen = cast["citizen_demo"]
    citizen.username = "Citizen_Renamed"
    citizen.save(update_fields=["username"])
    assert User.objects.get(pk=citizen.pk).username_key == "citizen_renamed"


@pytest.mark.django_db(transaction=True)
def test_two_registrations_of_look_alike_names_at_the_same_moment_give_one_account(reference_data, password):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def register(username: str, id_number: str) -> None:
        barrier.wait()
        try:
            services.register_citizen(username=username, password=password, full_name="甲", id_number=id_number)
            outcomes.append("created")
        except DomainError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    with time_machine.travel(JUNE_MORNING, tick=True):
        threads = [
            threading.Thread(target=register, args=("twin_name", "11010519491231002X")),
            threading.Thread(target=register, args=("ＴＷＩＮ_name", "440104198503151230")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # one is created; the other is refused by the check or, if both passed it, by the unique key
    assert sorted(outcomes) in (["account_taken", "created"], ["created", "invalid_registration"])
    assert User.objects.filter(username_key="twin_name").count() == 1


@frozen
def test_the_lockout_counts_every_spelling_of_a_name_together(client, cast, password):
    for typed in ["citizen_demo", "citizen_demo", "CITIZEN_demo", "ｃｉｔｉｚｅｎ_demo", "Citizen_Demo"]:
        client.post("/accounts/login/", {"username": typed, "password": "Wrong-pass-123"})
    response = client.post("/accounts/login/", {"username": "ＣＩＴＩＺＥＮ_ＤＥＭＯ", "password": password})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.fixture
def migrated_back_to_the_latest():
    """The test moves the schema back to 0007; afterwards every app is migrated forward to its latest
    migration again, so the tables of later migrations exist for the tests that follow."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@frozen
@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_keys_and_keeps_an_old_clash_apart(reference_data, migrated_back_to_the_latest):
    executor = MigrationExecutor(connection)
    executor.migrate([("core", "0007_user_username_key_added")])
    old = executor.loader.project_state([("core", "0007_user_username_key_added")]).apps
    OldUser = old.get_model("core", "User")
    first = OldUser.objects.create(username="liming", account_type="citizen")
    later = OldUser.objects.create(username="ＬiMing", account_type="citizen")
    other = OldUser.objects.create(username="Zhang_San", account_type="citizen")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("core", "0009_user_username_key_unique")])

    keys = dict(User.objects.filter(pk__in=[first.pk, later.pk, other.pk]).values_list("pk", "username_key"))
    assert keys == {first.pk: "liming", later.pk: f"liming#{later.pk}", other.pk: "zhang_san"}
