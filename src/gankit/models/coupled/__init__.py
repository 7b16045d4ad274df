"""The coupled family: GANs for two domains at once, whose shared weights make them learn the domains' joint
distribution from a sample of each domain alone (no pairs)."""
