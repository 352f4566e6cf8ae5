"""The comparison report across GAN variants."""
