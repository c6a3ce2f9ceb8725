"""Parts every architecture shares: MobileNet backbones, the PAN neck, conv blocks, box geometry."""
