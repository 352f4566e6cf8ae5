"""Several seeds of one variant side by side, summarized as mean ± std."""
