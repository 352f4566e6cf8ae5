"""The GAN library's training entry point: the engine's loop in this process, or in a group of
data-parallel processes that :mod:`ganforge.gan.distributed` launches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ganforge.gan.distributed import train_data_parallel
from ganforge.gan.engine import TrainingResult, check_input, finish_resume_state, train_in_group
from ganforge.gan.parallel import SINGLE_PROCESS
from ganforge.gan.state import TrainingState


def train(
    model_input: dict[str, Any],
    config: dict[str, Any],
    *,
    warm_start: dict[str, Any] | None = None,
    on_epoch_end: Callable[[TrainingState], None] | None = None,
    finish_on_return: bool = True,
) -> TrainingResult:
    """Train the configured variant on ``model_input`` and return its checkpoint and history.

    ``warm_start`` is an earlier checkpoint of the same networks (e.g. the champion): training
    starts from its weights and EMA; optimizers start fresh. ``on_epoch_end`` is called after
    each epoch's state is safely written (tests use it to interrupt a run). With
    ``training.distributed.enabled`` the worker processes are launched here and this call
    returns rank 0's result.

    The run's resume state is marked finished when this returns (raising ``training.epochs``
    later continues it; the same length again trains afresh). A caller that stores the
    checkpoint passes ``finish_on_return=False`` and calls :func:`finish_resume_state` once it
    is stored (the project's hooks do), so a failed save leaves a state the same command returns
    again instead of training from scratch.
    """
    check_input(config, model_input)
    if config["training"]["distributed"]["enabled"]:
        if on_epoch_end is not None:
            raise ValueError("on_epoch_end cannot reach the worker processes of distributed training")
        result = train_data_parallel(model_input, config, warm_start)
    else:
        result = train_in_group(model_input, config, SINGLE_PROCESS, warm_start=warm_start, on_epoch_end=on_epoch_end)
    if finish_on_return:
        finish_resume_state(result.checkpoint)
    return result
