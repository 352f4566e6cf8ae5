"""A history of generated images for the discriminator (Shrivastava et al. 2017, §2.3; used by
CycleGAN, Zhu et al. 2017, §4).

A discriminator shown only the generator's latest output forgets the mistakes the generator
made a few steps ago, and the generator can oscillate between them. Showing it a mix of new and
earlier fakes damps that. Until the history is full every new image is stored and passed on;
after that each new image, with probability ½, is passed on as is, or else swapped with a random
stored one, which is passed on while the new image takes its place.
"""

from __future__ import annotations

from typing import Any

import torch


class ImageHistory:
    """Up to ``capacity`` earlier generated images (0: no history, images pass straight through).
    The draws come from the caller's generator, so a resumed run makes the same choices."""

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError(f"capacity must be >= 0, got {capacity}")
        self.capacity = capacity
        self.images: list[torch.Tensor] = []

    @torch.no_grad()
    def exchange(self, images: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """The batch the discriminator sees in place of ``images`` (detached, same shape)."""
        if self.capacity == 0:
            return images.detach()
        chosen = []
        for image in images.detach():
            if len(self.images) < self.capacity:
                self.images.append(image.clone())
                chosen.append(image)
            elif torch.rand((), generator=rng, device=rng.device).item() < 0.5:
                slot = int(torch.randint(self.capacity, (), generator=rng, device=rng.device).item())
                chosen.append(self.images[slot])
                self.images[slot] = image.clone()
            else:
                chosen.append(image)
        return torch.stack(chosen)

    def state_dict(self) -> dict[str, Any]:
        """The stored images, on the CPU (part of every resume point, so a resumed run's
        discriminator sees the same mix as an uninterrupted one)."""
        return {"capacity": self.capacity,
                "images": torch.stack(self.images).cpu() if self.images else torch.empty(0)}

    def load_state_dict(self, state: dict[str, Any], device: torch.device | str = "cpu") -> None:
        if int(state["capacity"]) != self.capacity:
            raise ValueError(f"a history of {int(state['capacity'])} images cannot be loaded into one "
                             f"of {self.capacity}")
        self.images = [image.to(device) for image in state["images"]]
