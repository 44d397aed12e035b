"""train_recommender, export_recommendations and evaluate_recommender."""

import json

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from browsing.models import Event
from catalog.models import Product
from recommend.models import ModelVersion


@pytest.fixture
def named(world):
    """External ids for the world's members and products, as an import gives them."""
    for user in User.objects.all():
        User.objects.filter(pk=user.pk).update(external_id=f"u{user.pk}")
    for product in Product.objects.all():
        Product.objects.filter(pk=product.pk).update(external_id=f"i{product.pk}")
    return world


def test_train_command_publishes_a_version(world, capsys):
    call_command("train_recommender", "--budget", "0.5", "--quiet")

    out = capsys.readouterr().out
    version = ModelVersion.objects.get()
    assert f"version {version.pk}: live" in out
    assert "validation" in out


def test_train_command_can_limit_the_families(world, capsys):
    call_command("train_recommender", "--budget", "0.5", "--families", "pop,rp3beta", "--quiet")

    version = ModelVersion.objects.get()
    assert {c["family"] for c in version.hyperparameters["components"]} <= {"pop", "rp3beta"}
    assert set(version.validation) <= {"pop", "rp3beta", "hybrid"}


def test_export_writes_k_unseen_items_per_member_as_json_lines(named, tmp_path, capsys):
    call_command("train_recommender", "--budget", "0.5", "--quiet")
    capsys.readouterr()
    member = named.group_a[0]
    users = tmp_path / "users.txt"
    users.write_text(f"user\nu{member.pk}\nnobody\n")

    call_command("export_recommendations", "--users", str(users), "--k", "10")

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["user"] for line in lines] == [f"u{member.pk}", "nobody"]
    assert all(len(line["items"]) == 10 for line in lines)
    mine = lines[0]["items"]
    assert not {f"i{pk}" for pk in named.touched[member.pk]} & set(mine)
    assert set(mine[:3]) == {f"i{pk}" for pk in named.untouched(member, named.a)}
    assert len(set(mine)) == 10


def test_export_leaves_out_products_seen_after_training(named, tmp_path):
    call_command("train_recommender", "--budget", "0.5", "--quiet")
    member = named.group_a[0]
    first = sorted(named.untouched(member, named.a))[0]
    Event.objects.create(user=member, product_id=first, event_type=Event.Type.VIEW)
    users = tmp_path / "users.txt"
    users.write_text(f"u{member.pk}\n")
    out = tmp_path / "out.jsonl"

    call_command("export_recommendations", "--users", str(users), "--k", "5", "--output", str(out))

    line = json.loads(out.read_text())
    assert f"i{first}" not in line["items"] and len(line["items"]) == 5


def test_export_refuses_a_missing_file_and_a_bad_k(world, tmp_path):
    with pytest.raises(CommandError):
        call_command("export_recommendations", "--users", str(tmp_path / "none.txt"))
    with pytest.raises(CommandError):
        call_command("export_recommendations", "--users", "x", "--k", "0")


def test_export_refuses_an_unreadable_file_and_an_unwritable_output(world, tmp_path):
    users = tmp_path / "users.txt"
    users.write_bytes(b"\xff\xfe\x00u\x001\x00\n")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("export_recommendations", "--users", str(users))
    users.write_text("u1\n")
    with pytest.raises(CommandError, match="cannot write"):
        call_command(
            "export_recommendations", "--users", str(users), "--output", str(tmp_path / "no/x")
        )


@pytest.mark.parametrize("content", ["", "user\n", "\n \n", "u\x00x\n"])
def test_export_of_an_empty_or_odd_users_file_does_not_crash(named, tmp_path, capsys, content):
    users = tmp_path / "users.txt"
    users.write_text(content)

    call_command("export_recommendations", "--users", str(users), "--k", "3")

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["user"] for line in lines] == ([] if "\x00" not in content else ["u\x00x"])
    assert all(len(line["items"]) == 3 for line in lines)


def test_evaluate_prints_and_stores_every_model_beside_popularity(world, capsys):
    call_command("train_recommender", "--budget", "0.5", "--quiet")
    capsys.readouterr()

    call_command("evaluate_recommender", "--users", "100")

    out = capsys.readouterr().out
    assert "HR@10" in out and "pop" in out
    evaluation = ModelVersion.objects.get().evaluation
    assert "pop" in evaluation["models"]
    assert {"hr@10", "ndcg@10", "recall@20", "coverage"} <= set(evaluation["models"]["pop"])


def test_train_refuses_unknown_families_without_a_failed_version(world):
    with pytest.raises(CommandError, match="unknown model families"):
        call_command("train_recommender", "--families", "pop,nosuch", "--quiet")
    with pytest.raises(CommandError, match="unknown model families"):
        call_command("train_recommender", "--families", " , ", "--quiet")

    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize("users", ["0", "-5", "many"])
def test_evaluate_refuses_a_bad_number_of_users(world, users):
    with pytest.raises(CommandError):
        call_command("evaluate_recommender", "--users", users)
