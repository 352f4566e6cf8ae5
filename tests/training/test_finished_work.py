"""Finished work is never lost (issue 28, item 4): a run is finished only once its checkpoint is
stored, a continued run is the fresh run of its length or is refused in one line, killed writes
leave no temporary files behind, and stale resume states can be listed and pruned."""

from __future__ import annotations

import copy
import errno
import os
import shutil
import time

import pandas as pd
import pytest
from filelock import FileLock
from kedro.io import DatasetError

from ganforge.datasets import TorchDataset
from ganforge.errors import ConfigError
from ganforge.gan import pair_domains, train
from ganforge.hooks import GanForgeHooks
from ganforge.pipelines.training.nodes import train as train_node
from ganforge.pipelines.training.nodes import training_digest

from .conftest import VARIANT_SNIPPETS, make_model_input


class Interrupted(Exception):
    pass


def stop_after(epoch: int):
    def callback(state) -> None:  # noqa: ANN001
        if state.epoch == epoch:
            raise Interrupted

    return callback


def store(checkpoint: dict, dataset: TorchDataset) -> None:
    """What Kedro does with the train node's checkpoint: save it, then call the hooks."""
    dataset.save(checkpoint)
    GanForgeHooks().after_dataset_saved(dataset_name="dcgan.checkpoint", data=checkpoint, node=None)


def test_a_failed_checkpoint_save_leaves_a_state_the_next_run_returns_without_training(
        model_input, tiny_config, tmp_path, monkeypatch):
    config = tiny_config(VARIANT_SNIPPETS["dcgan"], epochs=2)
    checkpoint, history, *_ = train_node(model_input, config)
    dataset = TorchDataset(filepath=str(tmp_path / "models" / "checkpoint.pt"))

    def full_disk(path, payload) -> None:  # noqa: ANN001
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    with monkeypatch.context() as patched:
        patched.setattr("ganforge.utils.atomic_write_bytes", full_disk)
        with pytest.raises(DatasetError, match="No space left"):
            store(checkpoint, dataset)

    again, history_again, *_, info = train_node(model_input, config)
    assert info["resumed_from_epoch"] == 2  # the finished training, returned: no epoch trained again
    assert training_digest(again) == training_digest(checkpoint)
    assert learned_rows(history_again).equals(learned_rows(history))
    store(again, dataset)  # stored now: the same length again is a new run of that length
    assert train_node(model_input, config)[-1]["resumed_from_epoch"] == 0


def learned_rows(history: list[dict] | pd.DataFrame) -> pd.DataFrame:
    """The history without its timings (equals() takes NaN, a column not logged, as equal)."""
    return pd.DataFrame(history).drop(columns=["seconds", "images_per_second"])


def two_domains() -> dict:
    return pair_domains(make_model_input(count=16, classes=3), make_model_input(count=16, classes=3, seed=1))


def schedule_variant(name: str) -> dict:
    """The variant with its schedule running across the continuation (32 images, 4 steps an epoch)."""
    variant = copy.deepcopy(VARIANT_SNIPPETS[name])
    if name == "progan":  # growth through epochs 1 and 2, at full resolution from image 64
        variant["recipe"].update(stable_images=8, fade_images=24)
    if name == "stylegan":  # lazy R1 and path length every 3 steps: steps 3, 6 | 9
        variant["recipe"].update(r1_interval=3, path_length_weight=2.0, path_length_interval=3)
    if name == "cyclegan":
        variant["model"].update(residual_blocks=1, discriminator_channels=4)
    return variant




@pytest.mark.parametrize("name", ["dcgan", "progan", "stylegan", "cogan", "cyclegan"])
def test_a_finished_run_continued_to_more_epochs_is_the_fresh_run_of_that_length(name, model_input, tiny_config):
    data = two_domains if name in ("cogan", "cyclegan") else lambda: model_input
    train(data(), tiny_config(schedule_variant(name), epochs=2))
    continued = train(data(), tiny_config(schedule_variant(name), epochs=3))
    fresh = train(data(), tiny_config(schedule_variant(name), epochs=3, resume=False))
    assert continued.resumed_from_epoch == 2
    assert training_digest(continued.checkpoint) == training_digest(fresh.checkpoint)
    assert learned_rows(continued.history).equals(learned_rows(fresh.history))


def cyclegan_decaying(tiny_config, **training) -> dict:
    variant = schedule_variant("cyclegan")
    variant["recipe"] = {**variant.get("recipe", {}), "decay_epochs": 1}
    return tiny_config(variant, **training)


def test_cyclegan_continued_past_the_start_of_its_decay_is_refused_in_one_line(tiny_config):
    # 2 epochs with the last one decaying: a 3-epoch run trains epoch 2 at the full rate instead
    train(two_domains(), cyclegan_decaying(tiny_config, epochs=2))
    with pytest.raises(ConfigError) as refused:
        train(two_domains(), cyclegan_decaying(tiny_config, epochs=3))
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("Cannot continue the 2-epoch run of 'cyclegan'")
    assert "epoch 2 trained with learning_rate_factor 0.5, where a 3-epoch run trains with learning_rate_factor 1"\
        in message and message.endswith("Set training.resume: false to train 3 epochs from scratch.")


def test_cyclegan_resumed_at_another_length_before_its_decay_is_the_fresh_run(tiny_config):
    with pytest.raises(Interrupted):  # killed in epoch 2 of 3, before the decay
        train(two_domains(), cyclegan_decaying(tiny_config, epochs=3), on_epoch_end=stop_after(1))
    longer = train(two_domains(), cyclegan_decaying(tiny_config, epochs=4))
    fresh = train(two_domains(), cyclegan_decaying(tiny_config, epochs=4, resume=False))
    assert longer.resumed_from_epoch == 1
    assert training_digest(longer.checkpoint) == training_digest(fresh.checkpoint)


def test_the_next_run_removes_temporary_files_of_killed_writes_that_no_run_holds(model_input, tiny_config, tmp_path):
    resume_dir = tmp_path / "resume"
    resume_dir.mkdir()
    abandoned = resume_dir / ".gan-aaaaaaaaaaaa.pt.0123456789ab.tmp"
    in_progress = resume_dir / ".gan-bbbbbbbbbbbb.pt.0123456789ab.tmp"
    other = resume_dir / "notes.tmp"
    for path in (abandoned, in_progress, other):
        path.write_bytes(b"half a state")
    running = FileLock(str(resume_dir / "gan-bbbbbbbbbbbb.pt.lock"))  # another run writing that file
    running.acquire(timeout=0)
    try:
        train(model_input, tiny_config(VARIANT_SNIPPETS["gan"], epochs=1))
    finally:
        running.release()
    assert not abandoned.exists()
    assert in_progress.exists() and other.exists()
    assert [path.name for path in resume_dir.iterdir() if path.suffix == ".pt"] == \
        [next(resume_dir.glob("gan-*.pt")).name]


def test_resume_states_are_listed_and_pruned_by_age_and_finish(model_input, tiny_config, tmp_path):
    from ganforge.gan.resume_states import prune_resume_states, resume_states

    config = tiny_config(VARIANT_SNIPPETS["gan"], epochs=2)
    train(model_input, config)  # finished
    with pytest.raises(Interrupted):  # another experiment (seed), killed after epoch 1
        train(model_input, tiny_config(VARIANT_SNIPPETS["gan"], epochs=2, seed=8), on_epoch_end=stop_after(1))
    resume_dir = tmp_path / "resume"
    outside = tmp_path / "gan-cccccccccccc.pt"
    outside.write_bytes(b"not under the resume folder")
    (resume_dir / "gan-dddddddddddd.pt").write_bytes(b"a foreign file")
    records = {record.status: record for record in resume_states(resume_dir)}
    assert set(records) == {"finished", "unfinished", "unreadable"}
    assert (records["finished"].epoch, records["finished"].epochs) == (2, 2)
    assert (records["unfinished"].epoch, records["unfinished"].epochs) == (1, 2)

    week_ago = time.time() - 7 * 86_400
    os.utime(records["unfinished"].path, (week_ago, week_ago))
    assert prune_resume_states(resume_dir, older_than_days=3, dry_run=True)[0].status == "unfinished"
    assert [record.status for record in prune_resume_states(resume_dir, finished=True)] == ["finished"]
    assert [record.status for record in prune_resume_states(resume_dir, older_than_days=3)] == ["unfinished"]
    assert [record.status for record in resume_states(resume_dir)] == ["unreadable"]
    assert outside.exists()


def test_kedro_resume_states_lists_a_table_and_prunes_only_what_the_filters_name(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from ganforge.cli import cli
    from ganforge.gan.resume import ResumeFile, mark_finished

    from ..kedro_project import REPO

    project = tmp_path / "project"  # the configuration is all the command reads
    shutil.copytree(REPO / "conf", project / "conf", ignore=shutil.ignore_patterns("local"))
    (project / "conf" / "local").mkdir()
    shutil.copy(REPO / "pyproject.toml", project / "pyproject.toml")
    (project / "src").mkdir()  # the package itself is the installed one
    resume_dir = project / "data" / "06_models" / "resume"  # conf/base's training.resume_dir
    for key, epoch in (("0123456789ab", 2), ("ba9876543210", 1)):
        resume = ResumeFile(resume_dir, "dcgan", key, enabled=True)
        resume.save({"epoch": epoch, "step": 4 * epoch, "epochs": 2})
        resume.release()
    assert mark_finished(resume_dir / "dcgan-0123456789ab.pt", "0123456789ab", 2, 8)
    monkeypatch.chdir(project)

    listed = CliRunner().invoke(cli, ["resume-states", "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    # (in a test, the first command of the process may also show warnings of imports before it)
    lines = lines[lines.index("Resume states in data/06_models/resume:"):]
    assert lines[1].split() == ["VARIANT", "KEY", "EPOCH", "STATUS", "SIZE", "LAST", "WRITTEN", "AGE", "(DAYS)"]
    assert [line.split()[:4] for line in lines[2:4]] == [["dcgan", "0123456789ab", "2/2", "finished"],
                                                         ["dcgan", "ba9876543210", "1/2", "unfinished"]]
    unfiltered = CliRunner().invoke(cli, ["resume-states", "prune"])
    assert unfiltered.exit_code == 2 and "--older-than DAYS, --finished, or both" in unfiltered.output
    pruned = CliRunner().invoke(cli, ["resume-states", "prune", "--finished"])
    assert pruned.exit_code == 0, pruned.output
    assert "Removed data/06_models/resume/dcgan-0123456789ab.pt (finished, epoch 2/2" in pruned.output
    assert sorted(path.name for path in resume_dir.iterdir()) == ["dcgan-ba9876543210.pt"]
