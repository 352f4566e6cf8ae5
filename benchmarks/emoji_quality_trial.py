"""One quality trial on the emoji: a family's emoji default with some keys changed, trained by
``ganforge.gan.train`` alone (no Kedro run, no scoring), and the EMA generator's grid saved after
a third, two thirds and all of the epochs, to look at.

    KEDRO_DISABLE_TELEMETRY=true .venv/bin/python benchmarks/emoji_quality_trial.py dcgan 110 \
        --set '{"optimizer": {"lr_generator": 1.6e-3, "lr_discriminator": 1.6e-3}}' --tag lr16

How the README's "What was tried" rows on the emoji were made (each alone on the 2 cores, about
nine minutes of training). Grids go to ``data/08_reporting/quality_trials/<tag>_e<epoch>.png``;
the last line printed gives the wall time and the last epochs' images/s.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench_training import PROJECT, load_emoji_input, variant_config

from ganforge.gan import train as train_gan
from ganforge.images import grid_image
from ganforge.utils import deep_merge


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant")
    parser.add_argument("epochs", type=int)
    parser.add_argument("--set", default="{}", help="JSON merged over the variant's emoji configuration")
    parser.add_argument("--tag", default=None, help="names the grids (default: the variant)")
    parser.add_argument("--output", type=Path, default=PROJECT / "data/08_reporting/quality_trials")
    args = parser.parse_args()
    tag = args.tag or args.variant
    with tempfile.TemporaryDirectory(prefix="trial-resume-") as resume_dir:
        config = deep_merge(variant_config(args.variant, args.epochs, resume_dir, "emoji"), json.loads(args.set))
        started = time.perf_counter()
        result = train_gan(load_emoji_input(), config)
        wall = time.perf_counter() - started
    args.output.mkdir(parents=True, exist_ok=True)
    looked_at = {args.epochs // 3, 2 * args.epochs // 3, max(result.epoch_samples)}
    for epoch in sorted(looked_at & set(result.epoch_samples)):
        grid_image(result.epoch_samples[epoch]).save(args.output / f"{tag}_e{epoch}.png")
    speeds = [round(row["images_per_second"]) for row in result.history[-3:]]
    print(f"{tag}: {args.variant} {args.epochs} epochs with {args.set}: {wall:.0f} s, images/s {speeds}, "
          f"grids in {args.output}")


if __name__ == "__main__":
    main()
